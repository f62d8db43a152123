// RedisStore when things go wrong: an instance's lease lapses, Redis stops and comes back, and close() leaves nothing behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { RedisStore, type RedisClientLike } from '../../lib/stores/redis';
import { eventBase, leaseKey, registryKey, resultKey } from '../../lib/stores/redis/keys';
import type { Match } from '../../lib/types';
import { describeRedis, newClient, RedisClients, type TestClient } from '../helpers/redis';

type Outcome = { ok: true; match: Match } | { ok: false; error: unknown };

function settle(promise: Promise<Match>): Promise<Outcome> {
  return promise.then((match): Outcome => ({ ok: true, match }), (error: unknown): Outcome => ({ ok: false, error }));
}

function codeOf(outcome: Outcome): string {
  if (outcome.ok) return 'matched';
  return isNetsyncError(outcome.error) ? outcome.error.code : String(outcome.error);
}

/** Polls an external state (Redis) until `test` holds; bounded, since nothing else signals it. */
async function until(test: () => Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!(await test())) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The owner (instance id) of each pending record of `event`. */
async function owners(admin: TestClient, prefix: string, event: string): Promise<string[]> {
  const records = await admin.hVals(`${eventBase(prefix, event)}reqs`);
  return records.map((raw) => raw.slice(0, raw.indexOf('\n')));
}

describeRedis('RedisStore failures', () => {
  const redis = new RedisClients();
  let admin: TestClient;
  const open: Netsync[] = [];
  beforeAll(async () => {
    admin = await redis.client();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((hub) => hub.close()));
  });
  afterAll(() => redis.cleanup());

  function hubOn(client: RedisClientLike, prefix: string, leaseMs?: number): Netsync {
    const hub = new Netsync({ store: new RedisStore({ client, prefix, ...(leaseMs === undefined ? {} : { leaseMs }) }) });
    open.push(hub);
    return hub;
  }

  it('keeps a live instance\'s waiters matchable across many lease periods', async () => {
    const prefix = redis.prefix();
    const a = hubOn(await redis.client(), prefix, 300);
    const b = hubOn(await redis.client(), prefix, 300);
    const waiting = settle(a.send({ event: 'e', actor: 'A' }));
    await a.stats();
    const [owner] = await owners(admin, prefix, 'e');
    const first = Number(await admin.zScore(registryKey(prefix), owner!));
    await until(async () => Number(await admin.zScore(registryKey(prefix), owner!)) > first + 1000, 'more than three lease periods');
    const m = await b.send({ event: 'e', actor: 'B' });
    expect(m.members.map((x) => x.actor)).toEqual(['A', 'B']);
    expect(await waiting).toEqual({ ok: true, match: m });
  });

  it('never matches the waiters of an instance whose lease lapsed; a newcomer waits instead', async () => {
    const prefix = redis.prefix();
    const dyingClient = newClient();
    await dyingClient.connect();
    const dying = hubOn(dyingClient, prefix, 300);
    const survivor = hubOn(await redis.client(), prefix, 600);
    const lost = settle(dying.send({ event: 'e', actor: 'A' }));
    await dying.stats();
    const [dead] = await owners(admin, prefix, 'e');
    expect(dead).toBeDefined();
    // The instance vanishes without withdrawing anything; its record stays in Redis.
    dyingClient.destroy();
    expect(codeOf(await lost)).toBe('store_unavailable');
    expect(await owners(admin, prefix, 'e')).toEqual([dead]);
    // Expired, and dropped from the registry by the survivor's next renewal, which also refreshes its snapshot.
    await until(async () => (await admin.exists(leaseKey(prefix, dead!))) === 0, 'the lease key to expire');
    await until(async () => (await admin.zScore(registryKey(prefix), dead!)) === null, 'the registry to drop the instance');
    await survivor.stats();
    const newcomer = settle(survivor.send({ event: 'e', actor: 'B' }));
    const tree = await survivor.stats();
    expect(Object.keys(tree.e ?? {})).toEqual(['B']);
    const remaining = await owners(admin, prefix, 'e');
    expect(remaining).toHaveLength(1);
    expect(remaining[0]).not.toBe(dead);
    await survivor.close();
    expect(codeOf(await newcomer)).toBe('shutting_down');
  });

  it('close() withdraws its waiters, leaves the registry, closes its own connection and keeps the caller\'s', async () => {
    const prefix = redis.prefix();
    const client = await redis.client();
    const duplicates: TestClient[] = [];
    // The caller's client, with duplicate() observed so the store's own connection can be checked.
    const observed = new Proxy(client, {
      get(target, property) {
        if (property === 'duplicate') {
          return () => {
            const copy = target.duplicate();
            duplicates.push(copy);
            return copy;
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const errorListeners = client.listenerCount('error');
    const hub = new Netsync({ store: new RedisStore({ client: observed, prefix }) });
    const waiting = settle(hub.send({ event: 'e', actor: 'A' }));
    await hub.stats();
    const [owner] = await owners(admin, prefix, 'e');
    expect(duplicates).toHaveLength(1);
    expect(duplicates[0]?.isOpen).toBe(true);
    await hub.close();
    expect(codeOf(await waiting)).toBe('shutting_down');
    expect(duplicates[0]?.isOpen).toBe(false);
    expect(client.isOpen).toBe(true);
    expect(client.listenerCount('error')).toBe(errorListeners);
    expect(await admin.zScore(registryKey(prefix), owner!)).toBeNull();
    expect(await admin.exists(leaseKey(prefix, owner!))).toBe(0);
    expect(await owners(admin, prefix, 'e')).toEqual([]);
  });

  it('delivers a group formed while an instance\'s pub/sub connection was down, once it reconnects', async () => {
    const prefix = redis.prefix();
    const client = await redis.client();
    let subscriberId = 0;
    // Learn the id of the store's pub/sub connection (before it subscribes) so the test can cut just that one.
    const observed = new Proxy(client, {
      get(target, property) {
        if (property === 'duplicate') {
          return () => {
            const copy = target.duplicate();
            const connect = copy.connect.bind(copy);
            return Object.assign(copy, {
              connect: async () => {
                await connect();
                subscriberId = await copy.clientId();
                return copy;
              },
            });
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const a = hubOn(observed, prefix);
    const b = hubOn(await redis.client(), prefix);
    const waiting = settle(a.send({ event: 'e', actor: 'A' }));
    await a.stats();
    const ids = await admin.hKeys(`${eventBase(prefix, 'e')}reqs`);
    expect(subscriberId).toBeGreaterThan(0);
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(subscriberId)])).toBe(1);
    const m = await b.send({ event: 'e', actor: 'B' });
    expect(m.members.map((x) => x.actor)).toEqual(['A', 'B']);
    expect(await waiting).toEqual({ ok: true, match: m });
    // Its result was kept for A's instance in case the pub/sub message was missed.
    expect(await admin.exists(resultKey(prefix, 'e', ids[0]!))).toBe(1);
  });

  describe('with Redis stopped and restarted', () => {
    let port = 0;
    let server: ChildProcess | undefined;

    /** Start a private redis-server and resolve once it says it accepts connections (it logs to stdout). */
    async function startServer(): Promise<void> {
      const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      server = child;
      let seen = '';
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${seen}`)));
        child.stdout.on('data', (chunk: Buffer) => {
          seen = (seen + chunk.toString()).slice(-4096);
          if (seen.includes('Ready to accept connections')) resolve();
        });
      });
      child.removeAllListeners('exit');
      child.stdout.resume();
    }

    async function stopServer(): Promise<void> {
      const child = server;
      server = undefined;
      if (child === undefined || child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }

    beforeAll(async () => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1');
      await once(probe, 'listening');
      port = (probe.address() as { port: number }).port;
      probe.close();
      await once(probe, 'close');
    });
    afterAll(stopServer);

    it('fails waiters and new sends with store_unavailable, and works again once Redis is back', async () => {
      await startServer();
      const url = `redis://127.0.0.1:${port}`;
      const client = newClient(url);
      await client.connect();
      const prefix = 'netsync:';
      try {
        const hub = new Netsync({ store: new RedisStore({ client, prefix, leaseMs: 1000 }) });
        open.push(hub);
        const before = await Promise.all([hub.send({ event: 'e', actor: 'A' }), hub.send({ event: 'e', actor: 'B' })]);
        expect(before[0]).toEqual(before[1]);

        const waiting = settle(hub.send({ event: 'e', actor: 'W' }));
        await hub.stats();
        await stopServer();
        expect(codeOf(await waiting)).toBe('store_unavailable');
        expect(codeOf(await settle(hub.send({ event: 'e', actor: 'N' })))).toBe('store_unavailable');

        const ready = once(client, 'ready');
        await startServer();
        await ready;
        const after = await Promise.all([hub.send({ event: 'e', actor: 'C' }), hub.send({ event: 'e', actor: 'D' })]);
        expect(after[0].members.map((m) => m.actor)).toEqual(['C', 'D']);
        expect(after[1]).toEqual(after[0]);
        await hub.close();
      } finally {
        await client.close().catch(() => client.destroy());
      }
    });
  });
});
