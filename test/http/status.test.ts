// Every status code of the README's status table, and that no error is ever a 200 or a stack trace.
import request from 'supertest';
import { serveRouter, waitForPending } from './helpers';
import { UnreachableStore } from '../helpers/unreachable-store';

type Served = Awaited<ReturnType<typeof serveRouter>>;
const open: Served[] = [];

async function start(options: Parameters<typeof serveRouter>[0] = {}): Promise<Served> {
  const served = await serveRouter(options);
  open.push(served);
  return served;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function expectError(res: request.Response, status: number, code: string): void {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({ status, code });
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
}

describe('400 bad_request', () => {
  test.each([
    ['missing event', '/event?actor=a'],
    ['empty actor', '/event?event=e&actor='],
    ['bad mates', '/event?event=e&actor=a&mates=two'],
    ['mates over maxMates', '/event?event=e&actor=a&mates=65'],
    ['bad labels', '/event?event=e&actor=a&labels=k=v=w'],
    ['an actor label that differs from the actor', '/event?event=e&actor=a&labels=actor=b'],
    ['unknown field', '/event?event=e&actor=a&mate=2'],
    ['repeated field', '/event?event=e&actor=a&actor=b'],
    ['bad input=', '/event?event=e&actor=a&input=xml'],
    ['bad output=', '/event?event=e&actor=a&output=xml'],
    ['zero timeout', '/event?event=e&actor=a&timeout=0'],
    ['negative timeout', '/event?event=e&actor=a&timeout=-1'],
    ['timeout without a number', '/event?event=e&actor=a&timeout=soon'],
    ['timeout with an unknown unit', '/event?event=e&actor=a&timeout=3d'],
    ['timeout longer than a timer can hold', '/event?event=e&actor=a&timeout=30000000'],
  ])('%s', async (_case, path) => {
    const served = await start();
    const res = await request(served.url).get(path);
    expectError(res, 400, 'bad_request');
    expect(served.hub.pendingCount).toBe(0);
  });

  test.each([
    ['unparsable JSON', 'application/json', '{"event": "e",'],
    ['unparsable YAML', 'application/yaml', 'event: [e\nactor: a'],
    ['a YAML list, not a map', 'application/yaml', '- a\n- b'],
    ['a JSON string, not a map', 'application/json', '"event"'],
    ['JSON null', 'application/json', 'null'],
    ['two YAML documents', 'application/yaml', 'event: e\n---\nactor: a'],
    ['a body type it cannot read', 'text/plain', 'event=e&actor=a'],
    ['a repeated form field', 'application/x-www-form-urlencoded', 'event=e&actor=a&actor=b'],
    ['input= inside the body', 'application/json', '{"event":"e","actor":"a","input":"json"}'],
    ['an unknown field in the body', 'application/json', '{"event":"e","actor":"a","mate":2}'],
    ['a timeout that is not a duration', 'application/json', '{"event":"e","actor":"a","timeout":true}'],
  ])('%s', async (_case, type, body) => {
    const served = await start();
    const res = await request(served.url).post('/event').set('Content-Type', type).send(body);
    expectError(res, 400, 'bad_request');
  });

  test.each([
    ['the query', (url: string) => request(url).get('/event?event=e&actor=a&mate=2')],
    ['a JSON body', (url: string) => request(url).post('/event').send({ event: 'e', actor: 'a', mate: 2 })],
    ['a YAML body', (url: string) => request(url).post('/event?input=yaml').send('{event: e, actor: a, mate: 2}')],
  ])('an unknown field in %s is named, with every field the HTTP API reads', async (_case, send) => {
    const served = await start();
    const res = await send(served.url);
    expectError(res, 400, 'bad_request');
    expect((res.body as { error: { message: string } }).error.message).toBe(
      'unknown field "mate"; known fields are event, actor, payload, mates, linger, labels, selector, widen, timeout, input, output',
    );
  });

  test('YAML sent as a form without ?input= says how to fix it', async () => {
    const served = await start();
    const res = await request(served.url).post('/event').type('form').send('{event: e, payload: p1, actor: actor1}');
    expectError(res, 400, 'bad_request');
    expect((res.body as { error: { message: string } }).error.message).toContain('?input=yaml');
  });

  test('an unsupported charset', async () => {
    const served = await start();
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json; charset=klingon').send('{}');
    expectError(res, 400, 'bad_request');
  });

  test.each(['gzip', 'deflate', 'br'])('a %s Content-Encoding over bytes that do not decompress', async (encoding) => {
    const served = await start();
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json').set('Content-Encoding', encoding).send('{"event":"e","actor":"a","mates":0}');
    expectError(res, 400, 'bad_request');
  });
});

test('400 invalid_selector names the selector and the position', async () => {
  const served = await start();
  const res = await request(served.url).get(`/event?event=e&actor=a&selector=${encodeURIComponent('kind in (')}`);
  expectError(res, 400, 'invalid_selector');
  expect((res.body as { error: { message: string } }).error.message).toMatch(/kind in \(.*(at|position) 9\b/);
});

describe('413 too_large', () => {
  test('over the default 64 KiB', async () => {
    const served = await start();
    const res = await request(served.url)
      .post('/event')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ event: 'e', actor: 'a', payload: 'x'.repeat(65 * 1024) }));
    expectError(res, 413, 'too_large');
    expect((res.body as { error: { message: string } }).error.message).toContain('64kb');
  });

  test('a configured limit, answered in YAML when asked', async () => {
    const served = await start({ limit: 100 });
    const res = await request(served.url).post('/event?output=yaml&input=yaml').send(`{event: e, actor: a, payload: ${'x'.repeat(200)}}`);
    expect(res.status).toBe(413);
    expect(res.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(res.text).toContain('code: too_large');
  });

  test('just under the limit is fine', async () => {
    const served = await start({ limit: '1kb' });
    const body = JSON.stringify({ event: 'e', actor: 'a', mates: 0, payload: '' });
    const padded = JSON.stringify({ event: 'e', actor: 'a', mates: 0, payload: 'x'.repeat(1024 - body.length) });
    expect(Buffer.byteLength(padded)).toBe(1024);
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json').send(padded);
    expect(res.status).toBe(200);
  });
});

describe('504 timeout', () => {
  test.each(['100ms', '0.1'])('timeout=%s', async (timeout) => {
    const served = await start();
    const res = await request(served.url).get(`/event?event=e&actor=a&timeout=${timeout}`);
    expectError(res, 504, 'timeout');
    expect(served.hub.pendingCount).toBe(0);
  });

  test('maxWait caps a longer timeout', async () => {
    const served = await start({ maxWait: '100ms' });
    const res = await request(served.url).get('/event?event=e&actor=a&timeout=1h');
    expectError(res, 504, 'timeout');
    expect((res.body as { error: { message: string } }).error.message).toContain('100ms');
  });

  test('maxWait applies without a timeout', async () => {
    const served = await start({ maxWait: 100 });
    const res = await request(served.url).post('/event').send({ event: 'e', actor: 'a' });
    expectError(res, 504, 'timeout');
  });
});

describe('503', () => {
  test('overloaded, with Retry-After', async () => {
    const served = await start({ maxPending: 1 });
    const waiting = request(served.url).get('/event?event=e&actor=a1&timeout=10s').then((r) => r);
    await waitForPending(served.hub, 1);
    const res = await request(served.url).get('/event?event=e&actor=a2&selector=actor%3Dnobody');
    expectError(res, 503, 'overloaded');
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await served.hub.close();
    expectError(await waiting, 503, 'shutting_down');
  });

  test('shutting_down for a waiter when the hub closes, and for a newcomer after', async () => {
    const served = await start();
    const waiting = request(served.url).get('/event?event=e&actor=a1&output=yaml').then((r) => r);
    await waitForPending(served.hub, 1);
    await served.hub.close();
    const res = await waiting;
    expect(res.status).toBe(503);
    expect(res.text).toContain('code: shutting_down');
    expectError(await request(served.url).get('/event?event=e&actor=a2'), 503, 'shutting_down');
  });

  test('store_unavailable when the store cannot be reached', async () => {
    const served = await start({ store: new UnreachableStore() });
    const res = await request(served.url).get('/event?event=e&actor=a');
    expectError(res, 503, 'store_unavailable');
  });
});

test('500 without internals for an unexpected failure', async () => {
  const served = await start({ store: new UnreachableStore() });
  const res = await request(served.url).get('/stats');
  expect(res.status).toBe(500);
  expect(res.body).toEqual({ error: { code: 'internal', message: 'internal error' } });
  expect(res.text).not.toContain('must not leak');
});
