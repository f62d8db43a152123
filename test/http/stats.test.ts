// The `stats` router option: the full /stats tree, a redacted one without payloads, or no /stats; checked at factory time.
import request from 'supertest';
import { netsync } from '../../lib/router';
import { RedisStore } from '../../lib/stores/redis';
import type { StatsTree } from '../../lib/types';
import { describeRedis, RedisClients } from '../helpers/redis';
import { serveRouter, waitForPending, yaml, type ServedRouter } from './helpers';

const open: ServedRouter[] = [];

async function start(options: Parameters<typeof serveRouter>[0]): Promise<ServedRouter> {
  const served = await serveRouter(options);
  open.push(served);
  return served;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** One waiter with a payload that must not leak, under an event and actor named like prototype keys. */
async function waiter(served: ServedRouter): Promise<void> {
  void request(served.url).get('/event?event=__proto__&actor=constructor&payload=top-secret&labels=team=red').then(
    () => undefined,
    () => undefined,
  );
  await waitForPending(served.hub, 1);
}

test('stats: true (the default) shows every waiter with its payload', async () => {
  for (const stats of [undefined, true] as const) {
    const served = await start(stats === undefined ? {} : { stats });
    await waiter(served);
    const tree = JSON.parse((await request(served.url).get('/stats')).text) as StatsTree;
    expect(Object.values(tree.__proto__?.constructor ?? {}).map((e) => e.params.payload)).toEqual(['top-secret']);
  }
});

test("stats: 'redacted' leaves payloads out of /stats, in JSON and YAML, and keeps everything else", async () => {
  const served = await start({ stats: 'redacted' });
  await waiter(served);
  const json = await request(served.url).get('/stats');
  expect(json.status).toBe(200);
  expect(json.text).not.toContain('top-secret');
  const tree = JSON.parse(json.text) as Record<string, Record<string, Record<string, unknown>>>;
  expect(Object.keys(tree)).toEqual(['__proto__']);
  expect(Object.values(tree.__proto__?.constructor ?? {})).toEqual([
    {
      params: { event: '__proto__', actor: 'constructor', labels: { team: 'red', actor: 'constructor' }, selector: 'actor != constructor', mates: 1 },
      created_at: expect.stringMatching(/^\d{4}-/) as unknown as string,
    },
  ]);
  const asYaml = await request(served.url).get('/stats?output=yaml');
  expect(asYaml.text).not.toContain('top-secret');
  expect(yaml(asYaml.text)).toEqual(tree);
  // The hub's own view still has the payload: only what /stats serves is redacted.
  const hubTree = await served.hub.stats();
  expect(Object.values(hubTree.__proto__?.constructor ?? {}).map((e) => e.params.payload)).toEqual(['top-secret']);
});

test('stats: false serves no /stats; the path falls through', async () => {
  const served = await start({ stats: false });
  const res = await request(served.url).get('/stats');
  expect(res.status).toBe(404);
  expect(res.text).not.toContain('{');
});

test.each([['full'], ['off'], ['true'], [1], [null], [{}]])('stats: %j is a TypeError naming the option', (stats) => {
  expect(() => netsync({ stats: stats as never })).toThrow(TypeError);
  expect(() => netsync({ stats: stats as never })).toThrow(/netsync: stats must be true .*'redacted'.* or false/);
});

describeRedis("stats: 'redacted' with the Redis store", () => {
  const redis = new RedisClients();
  afterAll(() => redis.cleanup());

  test('leaves out the payloads of waiters on every instance sharing the store', async () => {
    const prefix = redis.prefix();
    const one = await start({ stats: 'redacted', store: new RedisStore({ client: await redis.client(), prefix }) });
    const two = await start({ stats: 'redacted', store: new RedisStore({ client: await redis.client(), prefix }) });
    await waiter(one);
    const res = await request(two.url).get('/stats');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('top-secret');
    const tree = JSON.parse(res.text) as Record<string, Record<string, Record<string, { params: Record<string, unknown> }>>>;
    const entries = Object.values(tree.__proto__?.constructor ?? {});
    expect(entries.map((e) => [e.params.actor, 'payload' in e.params])).toEqual([['constructor', false]]);
  });
});
