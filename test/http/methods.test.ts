// A method the router does not serve on its own paths: a JSON 405 with `Allow`; other paths still reach the host.
import express, { type Request, type Response } from 'express';
import request from 'supertest';
import { netsync, type NetsyncRouter } from '../../lib/router';
import { yaml, serve, type Served } from './helpers';

const open: Array<{ served: Served; router: NetsyncRouter }> = [];

afterEach(async () => {
  for (const { served, router } of open.splice(0)) {
    await served.close();
    await router.hub.close();
  }
});

/** A host with its own 404 around a router at /sync. */
async function host(options: Parameters<typeof netsync>[0] = {}): Promise<{ served: Served; router: NetsyncRouter }> {
  const app = express();
  const router = netsync(options);
  app.use('/sync', router);
  app.use((_req: Request, res: Response) => {
    res.status(404).send('host 404');
  });
  const hosted = { served: await serve(app), router };
  open.push(hosted);
  return hosted;
}

describe.each([
  ['/sync/event?event=e&actor=a&mates=0', 'GET, POST', ['put', 'delete', 'patch', 'head']],
  ['/sync/stats', 'GET, HEAD', ['put', 'delete', 'patch', 'post']],
] as const)('%s', (path, allow, methods) => {
  test.each(methods)('%s gets a 405 naming the methods served, in the error format', async (method) => {
    const { served, router } = await host();
    const res = await request(served.url)[method](path);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(router.hub.pendingCount).toBe(0);
    if (method === 'head') return; // a HEAD answer has no body to read
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({
      error: { code: 'method_not_allowed', message: `${method.toUpperCase()} is not served here; use ${allow.replace(', ', ' or ')}` },
    });
  });

  test('OPTIONS gets a 204 with Allow', async () => {
    const { served } = await host();
    const res = await request(served.url).options(path);
    expect([res.status, res.headers.allow, res.text]).toEqual([204, allow, '']);
  });
});

test('the 405 answers in YAML when the query asks for it', async () => {
  const { served } = await host();
  const res = await request(served.url).put('/sync/event?output=yaml');
  expect([res.status, res.headers['content-type']]).toEqual([405, 'application/yaml; charset=utf-8']);
  expect(yaml(res.text)).toEqual({ error: { code: 'method_not_allowed', message: 'PUT is not served here; use GET or POST' } });
});

test('paths the router does not serve still fall through to the host, whatever the method', async () => {
  const { served } = await host();
  for (const method of ['get', 'put', 'post'] as const) {
    expect((await request(served.url)[method]('/sync/nope')).text).toBe('host 404');
    expect((await request(served.url)[method]('/sync/event/more')).text).toBe('host 404');
  }
});

test('with stats: false every method on /stats falls through to the host', async () => {
  const { served } = await host({ stats: false });
  for (const method of ['get', 'put', 'post'] as const) {
    expect((await request(served.url)[method]('/sync/stats')).text).toBe('host 404');
  }
});
