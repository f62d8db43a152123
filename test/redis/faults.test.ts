// No split groups under faults: 1,000 requests in flight over two instances while a private Redis sleeps, is
// paused, or drops every connection; each request ends with one group or one error, and mates always agree.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import type { Match } from '../../lib/types';
import { describeRedis, newClient, type TestClient } from '../helpers/redis';
import { PrivateRedis } from '../helpers/redis-server';
import { until } from '../helpers/until';

const PAIRS = 500;

type Outcome = { ok: true; match: Match } | { ok: false; code: string };

const FAULTS: [string, (admin: TestClient) => Promise<unknown>][] = [
  ['a sleeping Redis (DEBUG SLEEP)', (admin) => admin.sendCommand(['DEBUG', 'SLEEP', '0.4'])],
  ['a paused Redis (CLIENT PAUSE)', (admin) => admin.sendCommand(['CLIENT', 'PAUSE', '400', 'ALL'])],
  ['every connection dropped (CLIENT KILL)', async (admin) => {
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal']);
    await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
  }],
];

describeRedis('RedisStore under faults', () => {
  jest.setTimeout(120_000);
  let server: PrivateRedis;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await PrivateRedis.start(['--enable-debug-command', 'yes']);
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) if (client.isOpen) client.destroy();
    await server?.stop();
  });

  async function client(): Promise<TestClient> {
    const made = newClient(server.url);
    clients.push(made);
    await made.connect();
    return made;
  }

  it.each(FAULTS)('never splits a group with %s', async (_name, fault) => {
    const prefix = `faults:${Math.random().toString(36).slice(2)}:`;
    // A short command timeout: requests sent while the fault lasts fail at once instead of waiting.
    const hubs = await Promise.all([0, 1].map(async () => new Netsync({
      store: new RedisStore({ client: await client(), prefix, commandTimeoutMs: 100, leaseMs: 3000 }),
    })));
    const admin = await client();
    const outcomes: Promise<Outcome>[] = [];
    const settled: (Outcome | undefined)[] = [];
    const send = (n: number): void => {
      const pair = Math.floor(n / 2);
      const sent = hubs[(n + pair) % 2]!.send({
        event: 'faults', actor: `a${n}`, payload: n, labels: { pair: String(pair) }, selector: `pair=${pair}`,
      });
      outcomes[n] = sent.then(
        (match): Outcome => (settled[n] = { ok: true, match }),
        (error: unknown): Outcome => (settled[n] = { ok: false, code: isNetsyncError(error) ? error.code : String(error) }),
      );
    };
    let faulted: Promise<unknown> | undefined;
    for (let n = 0; n < 2 * PAIRS; n++) {
      send(n);
      if (n === 2 * PAIRS / 4) faulted = fault(admin).catch(() => undefined);
      // Spread the sends, so some go out before, during and after the fault.
      if (n % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await faulted;

    // Quiet: every request settled, or pending in Redis (its mate failed before it was sent).
    const pendingCount = async (): Promise<number> => {
      try {
        const tree = await hubs[0]!.stats();
        return Object.keys(tree.faults ?? {}).length;
      } catch {
        return -1;
      }
    };
    let seen = '';
    await until(async () => {
      const pending = await pendingCount();
      const done = settled.filter(Boolean).length;
      seen = `${done} settled, ${pending} pending in Redis, ${hubs.map((hub) => hub.pendingCount).join(' + ')} waiting in the hubs`;
      return done + pending === 2 * PAIRS;
    }, 'every request to settle or wait').catch((err: unknown) => {
      throw new Error(`${String(err)} (${seen})`);
    });
    await Promise.all(hubs.map((hub) => hub.close()));
    const results = await Promise.all(outcomes);

    let groups = 0;
    for (let n = 0; n < results.length; n++) {
      const outcome = results[n]!;
      if (!outcome.ok) {
        expect(['store_unavailable', 'shutting_down']).toContain(outcome.code);
        continue;
      }
      const members = outcome.match.members.map((m) => m.payload as number).sort((a, b) => a - b);
      const pair = Math.floor(n / 2);
      expect(members).toEqual([2 * pair, 2 * pair + 1]);
      // Its mate got the very same group: no split.
      const mate = results[n % 2 === 0 ? n + 1 : n - 1]!;
      expect(mate).toEqual(outcome);
      if (n % 2 === 0) groups++;
    }
    if (process.env.FAULTS_VERBOSE) {
      const codes = results.map((o) => (o.ok ? 'matched' : o.code));
      process.stderr.write(`${_name}: ${groups} groups; ${JSON.stringify(Object.fromEntries([...new Set(codes)].map((c) => [c, codes.filter((x) => x === c).length])))}\n`);
    }
    // Requests before the fault meet as usual, so a test that formed no groups tested nothing.
    expect(groups).toBeGreaterThan(PAIRS / 10);
  });
});
