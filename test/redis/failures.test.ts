// RedisStore when things go wrong: an instance's lease lapses, Redis stops and comes back, and close() leaves nothing behind.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { RedisStore, type RedisClientLike } from '../../lib/stores/redis';
import { recordsKey, registryKey, resultKey } from '../../lib/stores/redis/keys';
import { crashable, describeRedis, leaseLapsed, newClient, nextReady, overriding, recordOwners, RedisClients, type TestClient } from '../helpers/redis';
import { PrivateRedis } from '../helpers/redis-server';
import { until } from '../helpers/until';
import { type Outcome, settle } from '../helpers/outcome';

function codeOf(outcome: Outcome): string {
  if (outcome.ok) return 'matched';
  return isNetsyncError(outcome.error) ? outcome.error.code : String(outcome.error);
}

const owners = recordOwners;

/**
 * A client whose pub/sub copy holds messages back on demand: a real Redis with a slow delivery path, so a
 * group can be formed in Redis while an instance has not heard of it yet.
 */
function slowPubSub(client: TestClient): { client: TestClient; hold: () => void; held: () => number; release: () => void } {
  let queue: (() => void)[] | undefined;
  const wrap = (copy: TestClient): TestClient => overriding(copy, {
    subscribe: (channel: string, listener: (message: string, channel: string) => void) =>
      copy.subscribe(channel, (message: string, from: string) => {
        if (queue === undefined) listener(message, from);
        else queue.push(() => listener(message, from));
      }),
  });
  const observed = overriding(client, { duplicate: () => wrap(client.duplicate()) });
  return {
    client: observed,
    hold: () => {
      queue ??= [];
    },
    held: () => queue?.length ?? 0,
    release: () => {
      const pending = queue ?? [];
      queue = undefined;
      for (const deliver of pending) deliver();
    },
  };
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

  it('gives a caller whose timeout fires while its group is on its way that group, never an error its mate does not see', async () => {
    const prefix = redis.prefix();
    const slow = slowPubSub(await redis.client());
    const a = hubOn(slow.client, prefix);
    const b = hubOn(await redis.client(), prefix);
    const first = settle(a.send({ event: 'e', actor: 'A' }, { timeoutMs: 3000 }));
    await a.stats();
    // The group forms while A's instance hears nothing of it: its pub/sub message is held back.
    slow.hold();
    const second = await settle(b.send({ event: 'e', actor: 'B' }, { timeoutMs: 10_000 }));
    expect(codeOf(second)).toBe('matched');
    // A's timer fires next; its withdrawal finds the group and A gets it, as B did.
    const outcome = await first;
    expect(codeOf(outcome)).toBe('matched');
    expect(outcome.ok && second.ok && outcome.match).toEqual(second.ok && second.match);
    expect(slow.held()).toBeGreaterThan(0);
    slow.release();
  });

  it('never matches the waiters of an instance whose lease lapsed; a newcomer waits instead', async () => {
    const prefix = redis.prefix();
    const dyingClient = newClient();
    await dyingClient.connect();
    const { client: observed, crash } = crashable(dyingClient);
    const dying = hubOn(observed, prefix, 300);
    const survivor = hubOn(await redis.client(), prefix, 600);
    const stranded = settle(dying.send({ event: 'e', actor: 'A' }));
    await dying.stats();
    const [dead] = await owners(admin, prefix, 'e');
    expect(dead).toBeDefined();
    // The instance loses Redis for good without withdrawing anything; its record stays in Redis, and its
    // caller keeps waiting: whether a group took the request cannot be known without Redis.
    crash();
    expect(await owners(admin, prefix, 'e')).toEqual([dead]);
    // Expired, and dropped from the registry by the survivor's next renewal, which also refreshes its snapshot.
    await until(() => leaseLapsed(admin, prefix, dead!), 'the lease to expire');
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
    await dying.close();
    expect(codeOf(await stranded)).toBe('shutting_down');
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
    // Its own connections: pub/sub, and one for the instance registry.
    expect(duplicates).toHaveLength(2);
    expect(duplicates.every((d) => d.isOpen)).toBe(true);
    await hub.close();
    expect(codeOf(await waiting)).toBe('shutting_down');
    expect(duplicates.some((d) => d.isOpen)).toBe(false);
    expect(client.isOpen).toBe(true);
    expect(client.listenerCount('error')).toBe(errorListeners);
    expect(await admin.zScore(registryKey(prefix), owner!)).toBeNull();
    expect(await owners(admin, prefix, 'e')).toEqual([]);
  });

  it('delivers a group formed while an instance\'s pub/sub connection was down, once it reconnects', async () => {
    const prefix = redis.prefix();
    const client = await redis.client();
    const copyIds: number[] = [];
    // Learn the ids of the store's own connections, so the test can cut just its pub/sub one.
    const observed = new Proxy(client, {
      get(target, property) {
        if (property === 'duplicate') {
          return () => {
            const copy = target.duplicate();
            const connect = copy.connect.bind(copy);
            return Object.assign(copy, {
              connect: async () => {
                await connect();
                copyIds.push(await copy.clientId());
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
    const ids = await admin.hKeys(recordsKey(prefix, 'e'));
    const pubsub = String(await admin.sendCommand(['CLIENT', 'LIST', 'TYPE', 'pubsub']));
    const subscriberId = copyIds.find((id) => new RegExp(`(^|\\s)id=${id}\\s`).test(pubsub));
    expect(subscriberId).toBeDefined();
    expect(await admin.sendCommand(['CLIENT', 'KILL', 'ID', String(subscriberId)])).toBe(1);
    const m = await b.send({ event: 'e', actor: 'B' });
    expect(m.members.map((x) => x.actor)).toEqual(['A', 'B']);
    expect(await waiting).toEqual({ ok: true, match: m });
    // A's instance read its result from Redis (the pub/sub message was missed) and left a tombstone.
    await until(async () => (await admin.get(resultKey(prefix, 'e', ids[0]!))) === '', 'the result to be marked read');
  });

  describe('with Redis stopped and restarted', () => {
    let server: PrivateRedis | undefined;
    afterAll(async () => {
      await server?.stop();
    });

    it('fails new sends at once while Redis is down, keeps its waiters, and works again once Redis is back', async () => {
      server = await PrivateRedis.start();
      const client = newClient(server.url);
      await client.connect();
      try {
        const hub = new Netsync({ store: new RedisStore({ client, prefix: 'netsync:', leaseMs: 1000 }) });
        open.push(hub);
        const before = await Promise.all([hub.send({ event: 'e', actor: 'A' }), hub.send({ event: 'e', actor: 'B' })]);
        expect(before[0]).toEqual(before[1]);

        const waiting = settle(hub.send({ event: 'e', actor: 'W' }));
        await hub.stats();
        // A request sent before the client noticed the crash is uncertain (it waits); one sent after fails at once.
        const noticed = new Promise((resolve) => client.once('reconnecting', resolve));
        await server.stop();
        await noticed;
        const sentAt = Date.now();
        const refused = settle(hub.send({ event: 'e', actor: 'N' }));
        expect(codeOf(await refused)).toBe('store_unavailable');
        // Generous: the bound that matters (100 ms) is measured by the benchmark; this catches a wait for a timeout.
        expect(Date.now() - sentAt).toBeLessThan(1000);
        const error = (await refused) as { ok: false; error: Error };
        expect(error.error.message).not.toMatch(/ERR|user_script|Lua|ECONN|socket/i);

        const ready = nextReady(client);
        await server.start();
        await ready;
        // W's record went with the old server: the store registers anew and offers W again.
        await until(async () => Object.keys((await hub.stats().catch(() => ({ e: {} }))).e ?? {}).includes('W'), 'W pending again');
        const after = await hub.send({ event: 'e', actor: 'C' });
        expect(after.members.map((m) => m.actor)).toEqual(['W', 'C']);
        expect(await waiting).toEqual({ ok: true, match: after });
        await hub.close();
      } finally {
        // Not close(): it would wait for replies that a stopped server never sends, hiding the real failure.
        if (client.isOpen) client.destroy();
      }
    });
  });
});
