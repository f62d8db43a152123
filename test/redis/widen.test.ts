// Selector widening on Redis: update() moves a pending request to its new class keeping its place in the
// arrival order, completes groups across instances, is a no-op when repeated, and survives an outage.
import { RedisStore } from '../../lib/stores/redis';
import type { ScriptCall } from '../../lib/stores/redis/client';
import { describeRedis, newClient, nextReady, overriding, RedisClients, type TestClient } from '../helpers/redis';
import { PrivateRedis } from '../helpers/redis-server';
import { until } from '../helpers/until';
import { idsOf, Observed, request, stageChange } from './driver';

describeRedis('RedisStore selector widening', () => {
  jest.setTimeout(60_000);
  const redis = new RedisClients();
  const stores: RedisStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(() => redis.cleanup());

  async function observed(prefix: string, client?: TestClient): Promise<Observed> {
    const store = new RedisStore({ client: client ?? await redis.client(), prefix });
    stores.push(store);
    return new Observed(store);
  }

  it('a request widened on one instance completes a pair with a waiter on another', async () => {
    const prefix = redis.prefix();
    const [a, b] = [await observed(prefix), await observed(prefix)];
    const waiter = request({ event: 'w', actor: 'B', labels: { level: 1 } }, 'b');
    const picky = request({
      event: 'w', actor: 'A', labels: { level: 5 }, selector: 'level>3', widen: [{ after: '10s', selector: 'level>0' }],
    }, 'a');
    await b.store.offer(waiter);
    await a.store.offer(picky);
    expect(a.groups).toEqual([]);
    expect(new Map((await b.store.pending()).map((s) => [s.id, s.stage]))).toEqual(new Map([[waiter.id, 0], [picky.id, 0]]));
    expect(await a.store.update(picky.id, stageChange(picky, 1))).toBe(true);
    const group = await b.groupOf(waiter.id);
    expect(await a.groupOf(picky.id)).toEqual(group);
    // Members in arrival order; only the member that can widen shows a stage.
    expect(group.members.map((m) => [m.id, m.stage])).toEqual([[waiter.id, undefined], [picky.id, 1]]);
    expect(await a.store.pending()).toEqual([]);
    // Matched now: a later stage leaves it alone.
    expect(await a.store.update(picky.id, stageChange(picky, 1))).toBe(false);
  });

  it('keeps the widened request\'s original place: it goes before a newer request of the class it joins', async () => {
    const prefix = redis.prefix();
    const [a, b] = [await observed(prefix), await observed(prefix)];
    const spec = { event: 'fifo', labels: { role: 'm' } };
    const older = request({ ...spec, actor: 'older', selector: 'role=w,tier=gold', widen: [{ after: '5s', selector: 'role=w' }] });
    const newer = request({ ...spec, actor: 'newer', selector: 'role=w' });
    await a.store.offer(older);
    await b.store.offer(newer);
    expect(await a.store.update(older.id, stageChange(older, 1))).toBe(true);
    // Repeating the change (or an earlier one) changes nothing.
    expect(await a.store.update(older.id, stageChange(older, 1))).toBe(true);
    // (pending() orders by arrival time on the instances' clocks, which may tie: compared as a set.)
    expect(new Map((await a.store.pending()).map((s) => [s.id, s.stage]))).toEqual(new Map([[older.id, 1], [newer.id, 0]]));
    const worker = request({ event: 'fifo', actor: 'worker', labels: { role: 'w' }, selector: 'role=m' });
    await b.store.offer(worker);
    const group = await a.groupOf(older.id);
    expect(idsOf(group)).toEqual([older.id, worker.id]);
    expect(await b.groupOf(worker.id)).toEqual(group);
    expect((await b.store.pending()).map((s) => s.id)).toEqual([newer.id]);
  });

  it('a widening completes a full range group at once, and one that makes a group possible opens the window', async () => {
    const prefix = redis.prefix();
    const [a, b] = [await observed(prefix), await observed(prefix)];
    const spec = { event: 'wr', mates: '1..2', linger: '60s' } as const;
    const x = request({ ...spec, actor: 'x' });
    const y = request({ ...spec, actor: 'y' });
    const z = request({ ...spec, actor: 'z', selector: 'team=none', widen: [{ after: '1s', selector: '' }] });
    await b.store.offer(x);
    await b.store.offer(y);
    await a.store.offer(z);
    expect(b.windows).toEqual([expect.objectContaining({ event: 'wr', ids: [x.id, y.id] })]);
    expect(await a.store.update(z.id, stageChange(z, 1))).toBe(true);
    const group = await a.groupOf(z.id);
    expect(idsOf(group)).toEqual([x.id, y.id, z.id]);
    expect(await b.groupOf(x.id)).toEqual(group);

    const again = { ...spec, event: 'wr2' };
    const p = request({ ...again, actor: 'p' });
    const q = request({ ...again, actor: 'q', selector: 'team=none', widen: [{ after: '1s', selector: '' }] });
    await b.store.offer(p);
    await a.store.offer(q);
    expect(a.windows).toEqual([]);
    await a.store.update(q.id, stageChange(q, 1));
    expect(a.windows).toEqual([expect.objectContaining({ event: 'wr2', ids: [q.id] })]);
    await until(() => b.windows.length === 2, 'the notice of the window to reach B');
    expect(b.windows[1]).toEqual(expect.objectContaining({ event: 'wr2', ids: [p.id] }));
  });

  it('a widening sent while Redis is away is kept: the re-offer after the outage carries the latest stage', async () => {
    const server = await PrivateRedis.start();
    const clients: TestClient[] = [];
    try {
      const prefix = redis.prefix();
      const connect = async (): Promise<TestClient> => {
        const client = newClient(server.url);
        clients.push(client);
        await client.connect();
        return client;
      };
      const clientA = await connect();
      const a = await observed(prefix, clientA);
      const picky = request({
        event: 'outage', actor: 'A', labels: { level: 5 }, selector: 'level>3', widen: [{ after: '10s', selector: 'level>0' }],
      }, 'a');
      await a.store.offer(picky);
      // Redis dies and comes back empty (no persistence): the record is gone with it.
      await server.stop();
      expect(await a.store.update(picky.id, stageChange(picky, 1))).toBe(true);
      const back = nextReady(clientA);
      await server.start();
      await back;
      // The re-offer enters it again, at stage 1.
      await until(async () => {
        const listed = await a.store.pending().catch(() => []);
        return listed.some((s) => s.id === picky.id && s.stage === 1);
      }, 'the request to be pending again at stage 1');
      const b = await observed(prefix, await connect());
      const waiter = request({ event: 'outage', actor: 'B', labels: { level: 1 } }, 'b');
      await b.store.offer(waiter);
      const group = await a.groupOf(picky.id);
      expect(group.members.map((m) => [m.id, m.stage])).toEqual([[picky.id, 1], [waiter.id, undefined]]);
      expect(await b.groupOf(waiter.id)).toEqual(group);
    } finally {
      await Promise.all(stores.splice(0).map((store) => store.close()));
      for (const client of clients) if (client.isOpen) client.destroy();
      await server.stop();
    }
  });

  it('a widening whose command got no answer is applied by the re-offer, to the record still pending in Redis', async () => {
    const prefix = redis.prefix();
    const client = await redis.client();
    let unanswered = 0;
    // The first stage change is lost on its way (as if the connection broke after sending it); Redis keeps the record.
    const lossy = overriding(client, {
      evalSha: (sha: string, options: ScriptCall) => {
        if (unanswered === 0 && options.arguments[0]?.includes('"mode":"update"') === true) {
          unanswered++;
          return Promise.reject(new Error('connection lost before the answer'));
        }
        return client.evalSha(sha, options);
      },
    });
    const store = new RedisStore({ client: lossy, prefix, leaseMs: 300 });
    stores.push(store);
    const a = new Observed(store);
    const picky = request({ event: 'lossy', actor: 'A', labels: { level: 5 }, selector: 'level>3', widen: [{ after: '1s', selector: 'level>0' }] });
    await a.store.offer(picky);
    expect(await a.store.update(picky.id, stageChange(picky, 1))).toBe(true);
    expect(unanswered).toBe(1);
    await until(async () => (await a.store.pending()).some((s) => s.id === picky.id && s.stage === 1), 'the re-offer to move the record to stage 1');
    const b = await observed(prefix);
    const waiter = request({ event: 'lossy', actor: 'B', labels: { level: 1 } });
    await b.store.offer(waiter);
    const group = await a.groupOf(picky.id);
    expect(group.members.map((m) => [m.id, m.stage])).toEqual([[picky.id, 1], [waiter.id, undefined]]);
  });

  it('an update racing the group that takes the request: one group, and the request is never entered again', async () => {
    const prefix = redis.prefix();
    const [a, b] = [await observed(prefix), await observed(prefix)];
    for (let round = 0; round < 5; round++) {
      const event = `race${round}`;
      const picky = request({ event, actor: 'A', labels: { level: 5 }, selector: 'level>3', widen: [{ after: '1s', selector: 'level>0' }] });
      const waiter = request({ event, actor: 'B', labels: { level: 5 } });
      await a.store.offer(picky);
      const [updated] = await Promise.all([a.store.update(picky.id, stageChange(picky, 1)), b.store.offer(waiter)]);
      const group = await a.groupOf(picky.id);
      expect(await b.groupOf(waiter.id)).toEqual(group);
      // Either the change came first (the group saw stage 1), or the group did (the change found it settled).
      expect(group.members.map((m) => [m.id, m.stage])).toEqual([[picky.id, updated ? 1 : 0], [waiter.id, undefined]]);
      expect(await a.store.update(picky.id, stageChange(picky, 1))).toBe(false);
    }
    expect(await a.store.pending()).toEqual([]);
    expect(a.groups).toHaveLength(5);
  });
});
