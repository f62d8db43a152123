// Hostile input: alias bombs, cycles, deep nesting, prototype keys and random bytes never crash, hang or pollute.
import fc from 'fast-check';
import request from 'supertest';
import type { Match } from '../../lib/types';
import { routerPerTest, waitForPending } from './helpers';

const served = routerPerTest();

const BILLION_LAUGHS = [
  'event: e',
  'actor: a',
  'mates: 0',
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
  'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
  'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
  'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
  'payload: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
].join('\n');

test('a YAML alias bomb is refused, and the server answers afterwards', async () => {
  const res = await request(served.url).post('/event').set('Content-Type', 'application/yaml').send(BILLION_LAUGHS);
  expect([400, 413]).toContain(res.status);
  expect((res.body as { error: { message: string } }).error.message).toMatch(/expands/);
  expect((await request(served.url).get('/event?event=e&actor=a&mates=0')).status).toBe(200);
});

test('a few YAML aliases are fine', async () => {
  const res = await request(served.url)
    .post('/event?input=yaml')
    .send('event: e\nactor: a\nmates: 0\npayload: {x: &v [1, 2], y: *v}');
  expect((res.body as Match).payloads).toEqual({ a: { x: [1, 2], y: [1, 2] } });
});

test('a cyclic YAML alias is refused', async () => {
  const res = await request(served.url).post('/event?input=yaml').send('{event: e, actor: a, mates: 0, payload: &p [*p]}');
  expect(res.status).toBe(400);
});

test('deep nesting is refused', async () => {
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  const res = await request(served.url).post('/event').set('Content-Type', 'application/json').send(`{"event":"e","actor":"a","mates":0,"payload":${deep}}`);
  expect(res.status).toBe(400);
  expect((res.body as { error: { message: string } }).error.message).toMatch(/nested/);
});

describe('prototype keys are plain data', () => {
  afterEach(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('in a JSON payload', async () => {
    const body = '{"event":"e","actor":"a","mates":0,"payload":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}}';
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual(JSON.parse('{"payloads":{"a":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}},"members":[{"actor":"a","payload":{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}},"labels":{"actor":"a"}}]}'));
  });

  test('in a YAML payload', async () => {
    const res = await request(served.url).post('/event?input=yaml').send('{event: e, actor: a, mates: 0, payload: {__proto__: {polluted: true}}}');
    expect(res.status).toBe(200);
    expect(res.text).toContain('"__proto__":{"polluted":true}');
  });

  test('as labels', async () => {
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json').send('{"event":"e","actor":"a","mates":0,"labels":{"__proto__":"x"}}');
    expect(res.status).toBe(400);
    const ok = await request(served.url).post('/event').set('Content-Type', 'application/json').send('{"event":"e","actor":"a","mates":0,"labels":{"constructor":"x"}}');
    expect((ok.body as Match).members[0]?.labels).toEqual({ actor: 'a', constructor: 'x' });
  });

  test('as fields of the query string and the body', async () => {
    expect((await request(served.url).get('/event?event=e&actor=a&__proto__=x')).status).toBe(400);
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json').send('{"event":"e","actor":"a","__proto__":{"mates":0}}');
    expect(res.status).toBe(400);
  });

  test('as actor names that meet', async () => {
    const a = request(served.url).get('/event?event=e&actor=__proto__&payload=1').then((r) => r);
    await waitForPending(served.hub, 1);
    const b = await request(served.url).get('/event?event=e&actor=constructor&payload=2');
    expect(JSON.parse(b.text)).toEqual(JSON.parse('{"payloads":{"__proto__":"1","constructor":"2"},"members":[{"actor":"__proto__","payload":"1","labels":{"actor":"__proto__"}},{"actor":"constructor","payload":"2","labels":{"actor":"constructor"}}]}'));
    expect((await a).text).toBe(b.text);
  });
});

test('random bodies are answered with a proper status and never crash the server', async () => {
  const types = ['application/json', 'application/yaml', 'application/x-www-form-urlencoded', 'text/plain'];
  await fc.assert(
    fc.asyncProperty(fc.string({ maxLength: 200 }), fc.constantFrom(...types), async (body, type) => {
      const res = await request(served.url).post('/event?timeout=20ms').set('Content-Type', type).send(body);
      expect([200, 400, 504]).toContain(res.status);
      if (res.status !== 200) expect(Object.keys(res.body as object)).toEqual(['error']);
    }),
    { numRuns: 60 },
  );
  expect((await request(served.url).get('/stats')).status).toBe(200);
});
