// Lone surrogates in any string field are a 400 bad_request before any store sees them, on the memory and the Redis store alike.
import request from 'supertest';
import { RedisStore } from '../../lib/stores/redis';
import type { MatcherStore } from '../../lib/stores/types';
import type { Match } from '../../lib/types';
import { describeRedis, RedisClients } from '../helpers/redis';
import { serveRouter, waitForPending, type ServedRouter } from './helpers';

/** JSON texts that are valid JSON but not valid Unicode: each names a lone surrogate with a `\u` escape. */
const ILL_FORMED_JSON: ReadonlyArray<readonly [string, string]> = [
  ['event', '{"event":"e\\ud800","actor":"a","mates":0}'],
  ['actor', '{"event":"e","actor":"a\\udfff","mates":0}'],
  ['a label key', '{"event":"e","actor":"a","mates":0,"labels":{"k\\ud800":"v"}}'],
  ['a label value', '{"event":"e","actor":"a","mates":0,"labels":{"k":"v\\udc00"}}'],
  ['labels as k=v text', '{"event":"e","actor":"a","mates":0,"labels":"k=v\\udbff"}'],
  ['the selector', '{"event":"e","actor":"a","mates":0,"selector":"k=\\ud800"}'],
  ['a payload string', '{"event":"e","actor":"a","mates":0,"payload":"x\\ud800y"}'],
  ['a string deep in the payload', '{"event":"e","actor":"a","mates":0,"payload":{"list":[1,{"s":"\\udfff"}]}}'],
  ['a payload key', '{"event":"e","actor":"a","mates":0,"payload":{"\\ud800":1}}'],
  ['a high surrogate at the end', '{"event":"e","actor":"a","mates":0,"payload":"end\\ud83d"}'],
];

/** The suite, against a router on `store` made fresh for every test. */
function unicodeSuite(makeStore: () => Promise<MatcherStore | undefined>): void {
  let served: ServedRouter;
  beforeEach(async () => {
    const store = await makeStore();
    served = await serveRouter(store === undefined ? {} : { store });
  });
  afterEach(() => served.close());

  const postJson = (body: string): Promise<request.Response> =>
    request(served.url).post('/event').set('Content-Type', 'application/json').send(body).then((res) => res);

  test.each(ILL_FORMED_JSON)('a lone surrogate in %s is a 400 bad_request', async (_where, body) => {
    const res = await postJson(body);
    expect(res.status).toBe(400);
    expect((res.body as { error: { code: string; message: string } }).error).toEqual({
      code: 'bad_request',
      message: expect.stringContaining('well-formed Unicode') as unknown as string,
    });
    // The message never echoes the surrogate back, not even escaped.
    expect(res.text).not.toMatch(/\\u[dD][89abAB]/);
  });

  test('in a YAML body too', async () => {
    const res = await request(served.url).post('/event?input=yaml').send('{event: "e\\ud800", actor: a, mates: 0}');
    expect(res.status).toBe(400);
    expect((res.body as { error: { code: string } }).error.code).toBe('bad_request');
  });

  test('events e\\ud800 and e\\udbff never meet: both are refused and nothing waits', async () => {
    const [one, two] = await Promise.all([
      postJson('{"event":"e\\ud800","actor":"a1","payload":"secret","timeout":"5s"}'),
      postJson('{"event":"e\\udbff","actor":"a2","payload":"other","timeout":"5s"}'),
    ]);
    expect([one.status, two.status]).toEqual([400, 400]);
    expect(one.text).not.toContain('secret');
    expect(two.text).not.toContain('secret');
    expect((await request(served.url).get('/stats')).body).toEqual({});
  });

  test('a well-formed surrogate pair (an emoji) is an ordinary name and payload', async () => {
    const first = postJson('{"event":"e\\ud83d\\ude00","actor":"a1","payload":"\\ud83c\\udf6b","timeout":"5s"}');
    await waitForPending(served.hub, 1);
    const second = await postJson('{"event":"e😀","actor":"a2","payload":{"🍫":"x"},"timeout":"5s"}');
    expect(second.status).toBe(200);
    expect((second.body as Match).payloads).toEqual({ a1: '🍫', a2: { '🍫': 'x' } });
    expect((await first).text).toBe(second.text);
  });

  test('an unrelated waiter of the same event is unaffected by a refused request', async () => {
    const waiting = postJson('{"event":"e","actor":"a1","payload":1,"timeout":"5s"}');
    await waitForPending(served.hub, 1);
    expect((await postJson('{"event":"e","actor":"\\udc00","payload":2}')).status).toBe(400);
    const mate = await postJson('{"event":"e","actor":"a2","payload":3}');
    expect(mate.status).toBe(200);
    expect((mate.body as Match).payloads).toEqual({ a1: 1, a2: 3 });
    expect((await waiting).status).toBe(200);
  });
}

describe('lone surrogates, memory store', () => {
  unicodeSuite(() => Promise.resolve(undefined));
});

describeRedis('lone surrogates, Redis store', () => {
  const redis = new RedisClients();
  afterAll(() => redis.cleanup());
  unicodeSuite(async () => new RedisStore({ client: await redis.client(), prefix: redis.prefix() }));
});
