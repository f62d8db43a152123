// The router inside a host app: host routes, 404s and error handlers untouched, host body parsers respected, options checked.
import express from 'express';
import request from 'supertest';
import { Netsync } from '../../lib/netsync';
import { netsync, type NetsyncRouter } from '../../lib/router';
import type { Match } from '../../lib/types';
import { hostApp, serve, waitForPending, type Served } from './helpers';

const open: Array<{ served: Served; routers: NetsyncRouter[] }> = [];

afterEach(async () => {
  for (const { served, routers } of open.splice(0)) {
    await served.close();
    await Promise.all(routers.map((r) => r.hub.close()));
  }
});

/** A host app with its own routes, 404 and error handler around a router mounted at `mount`. */
async function host(mount: string, options: Parameters<typeof netsync>[0] = {}, before?: (app: express.Express) => void): Promise<Served> {
  const router = netsync(options);
  const served = await serve(hostApp(mount, router, before));
  open.push({ served, routers: [router] });
  return served;
}

describe.each(['/', '/sync', '/a/b'])('mounted at %s', (mount) => {
  const prefix = mount === '/' ? '' : mount;

  test('serves /event and /stats under the mount path', async () => {
    const served = await host(mount);
    const res = await request(served.url).get(`${prefix}/event?event=e&actor=a&mates=0`);
    expect((res.body as Match).payloads).toEqual({ a: null });
    expect((await request(served.url).get(`${prefix}/stats`)).body).toEqual({});
  });

  test("leaves the host's routes, 404 and error handler alone", async () => {
    const served = await host(mount);
    expect((await request(served.url).get('/health')).text).toBe('ok');
    expect((await request(served.url).get(`${prefix}/nope`)).text).toBe('host 404');
    expect((await request(served.url).get('/boom')).text).toBe('host error handler');
    // The router's own paths answer a wrong method themselves (a JSON 405, see methods.test.ts); the host's
    // error handler never sees it.
    for (const method of ['put', 'delete', 'patch'] as const) {
      const res = await request(served.url)[method](`${prefix}/event?event=e&actor=a&mates=0`);
      expect({ method, status: res.status, code: (res.body as { error?: { code?: string } }).error?.code }).toEqual({ method, status: 405, code: 'method_not_allowed' });
    }
    expect((await request(served.url).post(`${prefix}/stats`)).status).toBe(405);
    expect((await request(served.url).put(`${prefix}/other`)).text).toBe('host 404');
  });
});

test('stats: false leaves /stats to the host', async () => {
  const served = await host('/sync', { stats: false });
  expect((await request(served.url).get('/sync/stats')).text).toBe('host 404');
  expect((await request(served.url).get('/sync/event?event=e&actor=a&mates=0')).status).toBe(200);
});

test("a waiting request lets go of Express's router and is still answered", async () => {
  // The host's middleware sees the same request object the router parks.
  const seen: express.Request[] = [];
  const router = netsync();
  const served = await serve(hostApp('/sync', router, (app) => app.use((req, _res, next) => {
    seen.push(req);
    next();
  })));
  open.push({ served, routers: [router] });
  const first = request(served.url).get('/sync/event?event=e&actor=a&mates=1').then((res) => res);
  await waitForPending(router.hub, 1);
  // While it waits, nothing holds the closures Express's routers made for it (BENCHMARKS.md, backlog cost).
  expect(seen[0]?.next).toBeUndefined();
  const second = await request(served.url).get('/sync/event?event=e&actor=b&mates=1');
  const answers = [await first, second].map((res) => ({ status: res.status, payloads: (res.body as Match).payloads }));
  expect(answers).toEqual([
    { status: 200, payloads: { a: null, b: null } },
    { status: 200, payloads: { a: null, b: null } },
  ]);
  // The host's routes after the router still run as before.
  expect((await request(served.url).get('/sync/nope')).text).toBe('host 404');
});

describe("a host's own body parsers", () => {
  test('express.json() before the router: its parsed object is taken as the fields', async () => {
    const served = await host('/sync', {}, (app) => app.use(express.json()));
    const res = await request(served.url).post('/sync/event').send({ event: 'e', actor: 'a', mates: 0, payload: { n: 1 } });
    expect((res.body as Match).payloads).toEqual({ a: { n: 1 } });
  });

  test('express.json() before the router: YAML bodies still reach the router', async () => {
    const served = await host('/sync', {}, (app) => app.use(express.json()));
    const res = await request(served.url).post('/sync/event?input=yaml').type('form').send('{event: e, actor: a, mates: 0, payload: [1]}');
    expect((res.body as Match).payloads).toEqual({ a: [1] });
  });

  test('express.urlencoded() before the router: form fields', async () => {
    const served = await host('/sync', {}, (app) => app.use(express.urlencoded({ extended: false })));
    const res = await request(served.url).post('/sync/event').type('form').send('event=e&actor=a&mates=0&payload=x');
    expect((res.body as Match).payloads).toEqual({ a: 'x' });
  });

  test('express.urlencoded() before the router: ?input=yaml on a body it already read says why it cannot apply', async () => {
    const served = await host('/sync', {}, (app) => app.use(express.urlencoded({ extended: false })));
    const res = await request(served.url).post('/sync/event?input=yaml').type('form').send('{event: e, actor: a, mates: 0}');
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('already read this body as a form') } });
    const withoutBody = await request(served.url).post('/sync/event?input=yaml&event=e&actor=a&mates=0');
    expect((withoutBody.body as Match).payloads).toEqual({ a: null });
  });

  test('express.text() before the router: the text is decoded by format', async () => {
    const served = await host('/sync', {}, (app) => app.use(express.text({ type: 'application/yaml' })));
    const res = await request(served.url).post('/sync/event').set('Content-Type', 'application/yaml').send('{event: e, actor: a, mates: 0}');
    expect((res.body as Match).payloads).toEqual({ a: null });
  });

  test('a host-parsed body that is not a map is a bad request', async () => {
    const served = await host('/sync', {}, (app) => app.use(express.json()));
    const res = await request(served.url).post('/sync/event').send([1, 2]);
    expect(res.status).toBe(400);
  });
});

describe('options are checked when the router is made', () => {
  test.each([
    [{ limit: 'lots' }, /limit/],
    [{ limit: 0 }, /limit/],
    [{ maxWait: -1 }, /maxWait/],
    [{ maxWait: '30 days' }, /maxWait/],
    [{ maxMates: 1.5 }, /maxMates/],
    [{ maxPending: 0 }, /maxPending/],
    [{ stats: 'no' }, /stats/],
    [{ log: 'verbose' }, /log/],
    [{ store: {} }, /store/],
    [{ maxwait: 10 }, /unknown option "maxwait"/],
  ])('%j', (options, message) => {
    expect(() => netsync(options as Parameters<typeof netsync>[0])).toThrow(message);
  });

  test('options a shared hub would silently ignore', async () => {
    const hub = new Netsync({ maxMates: 3 });
    try {
      expect(() => netsync({ hub, maxMates: 5 })).toThrow(/maxMates/);
      expect(() => netsync({ hub, maxMates: 3 }).hub).not.toThrow();
      expect(netsync({ hub }).hub).toBe(hub);
    } finally {
      await hub.close();
    }
  });

  test('maxMates reaches the hub the router makes', async () => {
    const served = await host('/', { maxMates: 2 });
    expect((await request(served.url).get('/event?event=e&actor=a&mates=3')).status).toBe(400);
  });
});
