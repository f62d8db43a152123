// Dead records leave on their own: the refresh loop sweeps a crashed instance's records, the events index
// follows what is pending, and a closed store never registers again.
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { eventBase, eventsKey, registryKey } from '../../lib/stores/redis/keys';
import { crashable, describeRedis, newClient, recordOwners, RedisClients, type TestClient } from '../helpers/redis';
import { until } from '../helpers/until';

async function keysOf(admin: TestClient, prefix: string, event: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const page of admin.scanIterator({ MATCH: `${eventBase(prefix, event)}*`, COUNT: 1000 })) keys.push(...page);
  return keys;
}

describeRedis('RedisStore sweep and index', () => {
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

  it('sweeps the records of a crashed instance with no newcomer passing by, and drops their events from the index', async () => {
    const prefix = redis.prefix();
    const dyingClient = newClient();
    await dyingClient.connect();
    const { client: observed, crash } = crashable(dyingClient);
    const dying = new Netsync({ store: new RedisStore({ client: observed, prefix, leaseMs: 300 }) });
    const survivor = new Netsync({ store: new RedisStore({ client: await redis.client(), prefix, leaseMs: 300 }) });
    open.push(dying, survivor);
    const stranded = [
      ...['A', 'B', 'C'].map((actor) => dying.send({ event: 'e1', actor, labels: { team: actor }, selector: 'team=Z' })),
      ...['A', 'B'].map((actor) => dying.send({ event: 'e2', actor, mates: 2, selector: 'actor=nobody' })),
    ];
    for (const s of stranded) s.catch(() => undefined);
    await dying.stats();
    expect(await recordOwners(admin, prefix, 'e1')).toHaveLength(3);
    expect((await admin.zRange(eventsKey(prefix), 0, -1)).sort()).toEqual(['e1', 'e2']);
    // Gone without a word: nothing withdraws these records.
    crash();
    await until(async () => (await keysOf(admin, prefix, 'e1')).length + (await keysOf(admin, prefix, 'e2')).length === 0,
      'every key of the dead records to go');
    await until(async () => (await admin.zCard(eventsKey(prefix))) === 0, 'the events index to empty');
  });

  it('keeps the events index to what is pending as groups form and requests leave; what remains expires', async () => {
    const prefix = redis.prefix();
    const hub = new Netsync({ store: new RedisStore({ client: await redis.client(), prefix }) });
    open.push(hub);
    for (let i = 0; i < 20; i++) {
      const event = `pair${i}`;
      await Promise.all([hub.send({ event, actor: 'a' }), hub.send({ event, actor: 'b' })]);
      const leaving = new AbortController();
      const left = hub.send({ event: `left${i}`, actor: 'x' }, { signal: leaving.signal });
      await hub.stats();
      leaving.abort(new Error('gone'));
      await expect(left).rejects.toThrow('gone');
    }
    const waiting = hub.send({ event: 'still', actor: 'w' });
    waiting.catch(() => undefined);
    await hub.stats();
    await until(async () => (await admin.zRange(eventsKey(prefix), 0, -1)).join() === 'still', 'the index to hold only the pending event');
    // Results read and withdrawals leave short-lived tombstones; nothing else of a settled event stays.
    for (let i = 0; i < 20; i++) {
      for (const key of [...await keysOf(admin, prefix, `pair${i}`), ...await keysOf(admin, prefix, `left${i}`)]) {
        expect([key, await admin.get(key)]).toEqual([key, '']);
        expect(await admin.pTTL(key)).toBeGreaterThan(0);
      }
    }
  });

  it('never registers again once closed, even with renewals running', async () => {
    const prefix = redis.prefix();
    const store = new RedisStore({ client: await redis.client(), prefix, leaseMs: 300 });
    const hub = new Netsync({ store });
    open.push(hub);
    const waiting = hub.send({ event: 'e', actor: 'A' });
    waiting.catch(() => undefined);
    await hub.stats();
    expect(await admin.zCard(registryKey(prefix))).toBe(1);
    await hub.close();
    expect(await admin.zCard(registryKey(prefix))).toBe(0);
    // Renewals were due every 100 ms; any that outlived close() would have re-created an entry by now.
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await admin.zCard(registryKey(prefix))).toBe(0);
    expect(await recordOwners(admin, prefix, 'e')).toEqual([]);
  });
});
