// The lobby shape at scale: 10,000 distinct players waiting in one event over two instances for a game maker.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { eventBase } from '../../lib/stores/redis/keys';
import { describeRedis, RedisClients } from '../helpers/redis';
import type { Outcome } from '../helpers/outcome';

const PLAYERS = Number(process.env.LOBBY_PLAYERS ?? 10_000);

describeRedis('RedisStore lobby', () => {
  jest.setTimeout(180_000);
  const redis = new RedisClients();
  afterAll(() => redis.cleanup());

  it(`holds ${PLAYERS} distinct-actor waiters in one event, lists them all, and matches a game maker with the oldest`, async () => {
    const prefix = redis.prefix();
    const hubs = await Promise.all([0, 1].map(async () => new Netsync({
      // A generous stall bound: this test is about scale, and a test process starved of CPU for a moment must not
      // read as Redis stalling (the fail-fast rule has its own tests).
      store: new RedisStore({ client: await redis.client(), prefix, commandTimeoutMs: 10_000 }),
    })));
    const settled: Outcome[] = [];
    const outcomes: Promise<Outcome>[] = [];
    try {
      for (let i = 0; i < PLAYERS; i++) {
        const sent = hubs[i % 2]!.send({ event: 'lobby', actor: `p${i}`, labels: { role: 'w' }, selector: 'role=m', payload: i });
        outcomes.push(sent.then(
          (match): Outcome => (settled[i] = { ok: true, match }),
          (error: unknown): Outcome => (settled[i] = { ok: false, error }),
        ));
        // The first waiter is in Redis before any other, so it is the oldest by Redis's arrival order.
        if (i === 0) await hubs[0]!.stats();
        // Arrivals come as separate I/O events, with timers (lease renewals) running between them; 10,000
        // sends in one synchronous loop would instead hold every timer back for seconds.
        if (i % 250 === 249) await new Promise(setImmediate);
      }
      // stats() waits for a hub's earlier offers only up to a bound, so under load a burst of 10,000 may still be
      // on its way: read again until every waiter is listed (or a generous bound passes).
      let listed = 0;
      for (const start = Date.now(); Date.now() - start < 60_000;) {
        await hubs[1]!.stats();
        listed = Object.keys((await hubs[0]!.stats()).lobby ?? {}).length;
        if (listed === PLAYERS) break;
      }
      // None answered early (an error here says which, and why), and every one listed.
      expect(settled.filter(Boolean).map((o) => (o.ok ? 'matched' : String(o.error)))).toEqual([]);
      expect(listed).toBe(PLAYERS);

      // A newcomer no waiter accepts waits with them.
      const loner = hubs[1]!.send({ event: 'lobby', actor: 'late', labels: { role: 'w' }, selector: 'role=m' });
      loner.catch(() => undefined);

      // No state per pair of waiters: a few keys and index entries per waiter, whatever their number.
      const admin = await redis.client();
      let entries = 0;
      for await (const keys of admin.scanIterator({ MATCH: `${eventBase(prefix, 'lobby')}*`, COUNT: 1000 })) {
        const sizes = await Promise.all(keys.map(async (key) => {
          const type = await admin.type(key);
          if (type === 'hash') return admin.hLen(key);
          if (type === 'zset') return admin.zCard(key);
          if (type === 'set') return admin.sCard(key);
          return 1;
        }));
        for (const size of sizes) entries += size;
      }
      expect(entries).toBeLessThan(8 * (PLAYERS + 1) + 50);

      const maker = await hubs[1]!.send({ event: 'lobby', actor: 'gm', labels: { role: 'm' }, selector: 'role=w', payload: 'game' });
      expect(maker.members.map((m) => m.actor)).toEqual(['p0', 'gm']);
      expect(await outcomes[0]).toEqual({ ok: true, match: maker });
      expect(settled.filter(Boolean)).toHaveLength(1);
    } finally {
      await Promise.all(hubs.map((hub) => hub.close()));
    }
    const rest = await Promise.all(outcomes.slice(1));
    expect(rest.every((o) => !o.ok && isNetsyncError(o.error) && o.error.code === 'shutting_down')).toBe(true);
  });
});
