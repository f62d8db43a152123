// A decoded body may not expand past the byte limit: YAML aliases, aliased keys, and shared nodes in bodies the host parsed.
import express from 'express';
import request from 'supertest';
import { netsync } from '../../lib/router';
import { RedisStore } from '../../lib/stores/redis';
import type { Match } from '../../lib/types';
import { describeRedis, RedisClients } from '../helpers/redis';
import { routerPerTest, serve, serveRouter, waitForPending } from './helpers';

const served = routerPerTest();

/** `levels` levels of 8-way aliases over one string of `size` characters, as the payload of a lone request. */
function aliasTree(levels: number, size: number): string {
  const lines = ['event: e', 'actor: a', 'mates: 0', `s0: &s0 "${'x'.repeat(size)}"`];
  for (let level = 1; level <= levels; level++) {
    lines.push(`s${level}: &s${level} [${Array.from({ length: 8 }, () => `*s${level - 1}`).join(', ')}]`);
  }
  lines.push(`payload: *s${levels}`);
  return lines.join('\n');
}

/** Field names are checked after decoding, so the anchors above need a body that names only known fields. */
function aliasPayload(levels: number, size: number): string {
  const anchors = [`&s0 "${'x'.repeat(size)}"`];
  let inner = '*s0';
  for (let level = 1; level <= levels; level++) {
    inner = `&s${level} [${Array.from({ length: 8 }, (_v, i) => (i === 0 ? inner : `*s${level - 1}`)).join(', ')}]`;
  }
  return `{event: e, actor: a, mates: 0, payload: [${anchors[0]}, ${inner}]}`;
}

function expectExpansionRefused(res: request.Response): void {
  expect(res.status).toBe(400);
  const { error } = res.body as { error: { code: string; message: string } };
  expect(error.code).toBe('bad_request');
  expect(error.message).toMatch(/expands to more than 65536 bytes/);
}

test.each([1, 3, 4])('%i levels of 8-way aliases to a 50 KB string are refused in a body under the limit', async (levels) => {
  const body = aliasPayload(levels, 50_000);
  expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
  const res = await request(served.url).post('/event?input=yaml').send(body);
  expectExpansionRefused(res);
  // The server is still answering at once afterwards.
  expect((await request(served.url).get('/event?event=e&actor=a&mates=0')).status).toBe(200);
});

test('extra fields holding anchors are refused by the size before they are named as unknown', async () => {
  expectExpansionRefused(await request(served.url).post('/event').set('Content-Type', 'application/yaml').send(aliasTree(3, 50_000)));
});

test('an aliased list used as a key is stopped before js-yaml joins it into one string', async () => {
  const items = Array.from({ length: 2_000 }, () => '*s').join(', ');
  const body = `{event: e, actor: a, mates: 0, payload: {list: &l [&s "${'y'.repeat(30_000)}", ${items}], ? *l : 1}}`;
  expect(Buffer.byteLength(body)).toBeLessThan(64 * 1024);
  expectExpansionRefused(await request(served.url).post('/event?input=yaml').send(body));
});

test('an alias inside its own anchor is refused', async () => {
  const res = await request(served.url).post('/event?input=yaml').send('{event: e, actor: a, mates: 0, payload: &p {self: *p}}');
  expect(res.status).toBe(400);
  expect((res.body as { error: { message: string } }).error.message).toMatch(/refers to itself/);
});

test('aliases that stay within the limit are fine, and so are bodies near the limit without them', async () => {
  const small = await request(served.url).post('/event?input=yaml').send(aliasPayload(2, 500));
  expect(small.status).toBe(200);
  const payload = (small.body as Match).payloads.a as unknown[];
  expect(JSON.stringify(payload).length).toBeGreaterThan(500 * 64);

  const big = 'z'.repeat(60_000);
  for (const [type, body] of [
    ['application/json', JSON.stringify({ event: 'e', actor: 'a', mates: 0, payload: big })],
    ['application/yaml', `{event: e, actor: a, mates: 0, payload: ${big}}`],
    ['application/x-www-form-urlencoded', `event=e&actor=a&mates=0&payload=${big}`],
  ]) {
    const res = await request(served.url).post('/event').set('Content-Type', type as string).send(body);
    expect({ type, status: res.status }).toEqual({ type, status: 200 });
    expect((res.body as Match).payloads.a).toBe(big);
  }
});

test('a body the host parsed into shared nodes is measured the same way', async () => {
  const app = express();
  const router = netsync();
  const s = 'x'.repeat(50_000);
  const level1 = Array.from({ length: 8 }, () => s);
  const level2 = Array.from({ length: 8 }, () => level1);
  // A host body parser that keeps shared references, as a YAML parser with aliases would.
  app.use((req, _res, next) => {
    req.body = { event: 'e', actor: 'a', mates: 0, payload: req.headers['x-shared'] === '1' ? level2 : level1.slice(0, 1) };
    next();
  });
  app.use(router);
  const host = await serve(app);
  try {
    expectExpansionRefused(await request(host.url).post('/event').set('x-shared', '1').send(''));
    expect((await request(host.url).post('/event').send('')).status).toBe(200);
  } finally {
    await host.close();
    await router.hub.close();
  }
});

describeRedis('alias expansion with the Redis store', () => {
  const redis = new RedisClients();
  afterAll(() => redis.cleanup());

  test('the body is refused before the store sees it, and a waiter of the same event is unaffected', async () => {
    const served = await serveRouter({ store: new RedisStore({ client: await redis.client(), prefix: redis.prefix() }) });
    try {
      const waiting = request(served.url).get('/event?event=e&actor=w&payload=1').then((res) => res);
      await waitForPending(served.hub, 1);
      const bomb = aliasPayload(3, 50_000).replace('mates: 0', 'mates: 1');
      expectExpansionRefused(await request(served.url).post('/event?input=yaml').send(bomb));
      const stats = (await request(served.url).get('/stats')).body as Record<string, Record<string, unknown>>;
      expect(Object.keys(stats.e ?? {})).toEqual(['w']);
      const mate = await request(served.url).get('/event?event=e&actor=m&payload=2');
      expect(mate.status).toBe(200);
      expect((await waiting).status).toBe(200);
    } finally {
      await served.close();
    }
  });
});
