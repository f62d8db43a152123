// Lone surrogates and bytes that are no UTF-8, in any field and any input form, are a 400 bad_request before any store sees them, on both stores.
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

  /** POST these exact bytes (supertest would serialise a Buffer as JSON). */
  async function postBytes(type: string, bytes: Buffer): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${served.url}/event`, { method: 'POST', headers: { 'content-type': type }, body: bytes });
    return { status: res.status, body: (await res.json()) as unknown };
  }

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

  test.each([
    ['an encoded surrogate in the query', '/event?event=e%ED%A0%80&actor=a&mates=0'],
    ['another encoded surrogate in the query', '/event?event=e%ED%AF%BF&actor=a&mates=0'],
    ['a byte that starts no UTF-8 character', '/event?event=e&actor=a%FF&mates=0'],
    ['a character cut short', '/event?event=e&actor=a&mates=0&payload=%E2%82'],
  ])('%s is a 400 bad_request, not U+FFFD', async (_case, path) => {
    const res = await request(served.url).get(path);
    expect(res.status).toBe(400);
    expect((res.body as { error: { code: string; message: string } }).error).toEqual({
      code: 'bad_request',
      message: 'the query string is not valid UTF-8: a %-escape names bytes that are no UTF-8 text',
    });
  });

  test('valid escapes and a stray % in the query are fine', async () => {
    const res = await request(served.url).get('/event?event=%E2%82%AC&actor=a&mates=0&payload=100%');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ payloads: { a: '100%' }, members: [{ actor: 'a', payload: '100%', labels: { actor: 'a' } }] });
    expect((await request(served.url).get('/event?event=e%20f&actor=a&mates=0&output=yaml')).status).toBe(200);
  });

  test.each([
    ['a JSON body', 'application/json', '{"event":"e\xff","actor":"a","mates":0}'],
    ['a YAML body', 'application/yaml', '{event: e\xed\xa0\x80, actor: a, mates: 0}'],
    ['a form body', 'application/x-www-form-urlencoded', 'event=e\xc3&actor=a&mates=0'],
    ['a form body with escapes', 'application/x-www-form-urlencoded', 'event=e%C3&actor=a&mates=0'],
  ])('bytes that are no UTF-8 in %s are a 400 bad_request', async (_case, type, latin1) => {
    const res = await postBytes(type, Buffer.from(latin1, 'latin1'));
    expect(res.status).toBe(400);
    expect((res.body as { error: { code: string; message: string } }).error.message).toMatch(/not valid UTF-8/);
  });

  test('a body in another declared charset is decoded as declared', async () => {
    const res = await postBytes('application/json; charset=latin1', Buffer.from('{"event":"e","actor":"caf\xe9","mates":0}', 'latin1'));
    expect(res.status).toBe(200);
    expect((res.body as Match).members[0]?.actor).toBe('café');
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
