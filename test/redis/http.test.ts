// Mate ranges and widening end to end: two app instances over HTTP, each with its own RedisStore on one Redis.
import { RedisStore } from '../../lib/stores/redis';
import { serveRouter, type ServedRouter } from '../http/helpers';
import { describeRedis, RedisClients } from '../helpers/redis';
import { until } from '../helpers/until';

describeRedis('RedisStore over HTTP: ranges and widening', () => {
  jest.setTimeout(60_000);
  const redis = new RedisClients();
  const served: ServedRouter[] = [];
  afterEach(async () => {
    await Promise.all(served.splice(0).map((s) => s.close()));
  });
  afterAll(() => redis.cleanup());

  async function instances(): Promise<[ServedRouter, ServedRouter]> {
    const prefix = redis.prefix();
    const make = async (): Promise<ServedRouter> => {
      const s = await serveRouter({ store: new RedisStore({ client: await redis.client(), prefix }) });
      served.push(s);
      return s;
    };
    return [await make(), await make()];
  }

  function get(s: ServedRouter, query: Record<string, string | string[]>): Promise<Response> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) for (const v of [value].flat()) search.append(key, v);
    return fetch(`${s.url}/event?${search.toString()}`);
  }

  async function pendingCount(s: ServedRouter, event: string): Promise<number> {
    const tree = (await (await fetch(`${s.url}/stats`)).json()) as Record<string, Record<string, Record<string, unknown>>>;
    return Object.values(tree[event] ?? {}).reduce((n, byId) => n + Object.keys(byId).length, 0);
  }

  it('a request widened on one instance meets a waiter on the other; the answer shows its stage', async () => {
    const [a, b] = await instances();
    const waiting = get(b, { event: 'h', actor: 'B', labels: 'level=1' });
    await until(async () => (await pendingCount(a, 'h')) === 1, 'B to be pending');
    const widened = get(a, { event: 'h', actor: 'A', labels: 'level=5', selector: 'level>3', widen: '200ms:level>0' });
    const [ra, rb] = await Promise.all([widened, waiting]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    const [ma, mb] = await Promise.all([ra.json(), rb.json()]);
    expect(ma).toEqual(mb);
    expect(ma).toEqual({
      payloads: { A: null, B: null },
      members: [
        { actor: 'B', payload: null, labels: { actor: 'B', level: '1' } },
        { actor: 'A', payload: null, labels: { actor: 'A', level: '5' }, stage: 1 },
      ],
    });
  });

  it('a range lingers across instances, listed in /stats meanwhile, and every member gets one answer', async () => {
    const [a, b] = await instances();
    const spec = { event: 'lobby', mates: '1..3', linger: '300ms' };
    const first = get(a, { ...spec, actor: 'p1' });
    await until(async () => (await pendingCount(b, 'lobby')) === 1, 'p1 to be pending');
    const second = get(b, { ...spec, actor: 'p2' });
    await until(async () => (await pendingCount(a, 'lobby')) === 2 || (await pendingCount(a, 'lobby')) === 0, 'p2 to arrive');
    const [r1, r2] = await Promise.all([first, second]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    const [m1, m2] = await Promise.all([r1.json(), r2.json()]) as [{ members: { actor: string }[] }, unknown];
    expect(m2).toEqual(m1);
    expect(m1.members.map((m) => m.actor)).toEqual(['p1', 'p2']);
    expect(await pendingCount(a, 'lobby')).toBe(0);
  });
});
