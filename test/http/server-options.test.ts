// expressServerOptions: Node builds requests and responses with the app's prototypes, and the app (with the
// router inside) serves exactly as under app.listen. Runs on Express 5 and, as an HTTP suite, on Express 4.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { promisify } from 'node:util';
import { IncomingMessage, ServerResponse, type ServerOptions } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import request from 'supertest';
import { netsync } from '../../lib/router';
import { expressServerOptions, serverOptionsFrom } from '../../lib/server';
import type { Match } from '../../lib/types';
import { hostApp, serve, type ServedRouter } from './helpers';

type Hosted = ServedRouter & {
  /** For each request the server received, whether Node built it and its response with the app's prototypes. */
  readonly built: Array<{ request: boolean; response: boolean }>;
};

const open: Hosted[] = [];

afterEach(async () => {
  for (const hosted of open.splice(0)) await hosted.close();
});

/** netsync at /sync in a host app with an `/echo` route, served by `createServer(options(app), app)`. */
async function host(options: (app: Express) => ServerOptions): Promise<Hosted> {
  const router = netsync();
  const app = hostApp('/sync', router, (host) => {
    host.get('/echo', (req: Request, res: Response) => {
      res.status(201).json({ query: req.query, host: req.get('host'), ip: typeof req.ip });
    });
  });
  const served = await serve(app, options(app));
  const built: Hosted['built'] = [];
  // Before the app: what Node built, not what Express made of it.
  served.server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    built.push({ request: Object.getPrototypeOf(req) === app.request, response: Object.getPrototypeOf(res) === app.response });
  });
  const hosted: Hosted = {
    ...served,
    router,
    hub: router.hub,
    built,
    close: async () => {
      await served.close();
      await router.hub.close();
    },
  };
  open.push(hosted);
  return hosted;
}

describe('expressServerOptions', () => {
  test("Node builds every request and response with the app's prototypes", async () => {
    const { url, built } = await host(expressServerOptions);
    await request(url).get('/echo?x=1');
    await request(url).get('/sync/event?event=e&actor=a&mates=0');
    expect(built).toEqual([{ request: true, response: true }, { request: true, response: true }]);
  });

  test("without them Node builds plain messages and Express swaps their prototypes (what the options avoid)", async () => {
    const { url, built } = await host(() => ({}));
    await request(url).get('/echo?x=1');
    expect(built).toEqual([{ request: false, response: false }]);
  });

  test('the messages are still Node messages, and Express helpers work on them', async () => {
    const app = express();
    const { IncomingMessage: AppRequest, ServerResponse: AppResponse } = expressServerOptions(app);
    expect(AppRequest?.prototype).toBe(app.request);
    expect(AppResponse?.prototype).toBe(app.response);
    expect(app.request).toBeInstanceOf(IncomingMessage);
    expect(app.response).toBeInstanceOf(ServerResponse);

    const { url } = await host(expressServerOptions);
    const res = await request(url).get('/echo?x=1&y=two');
    expect({ status: res.status, body: res.body as unknown }).toEqual({
      status: 201,
      body: { query: { x: '1', y: 'two' }, host: new URL(url).host, ip: 'string' },
    });
  });

  test("the host's 404 and error handler, and netsync's own errors, answer as under app.listen", async () => {
    const { url } = await host(expressServerOptions);
    expect((await request(url).get('/health')).text).toBe('ok');
    expect((await request(url).get('/nope')).text).toBe('host 404');
    expect((await request(url).get('/boom')).text).toBe('host error handler');
    const bad = await request(url).get('/sync/event?event=e&actor=a&selector=a%3D%3D%3Db');
    expect({ status: bad.status, code: (bad.body as { error?: { code?: string } }).error?.code }).toEqual({ status: 400, code: 'invalid_selector' });
  });

  test('mates meet through the router, on one keep-alive connection each', async () => {
    const { url, router } = await host(expressServerOptions);
    const agentA = request.agent(url);
    const agentB = request.agent(url);
    for (let round = 0; round < 3; round++) {
      const first = agentA.get(`/sync/event?event=r${round}&actor=a&payload=${round}`).then((res) => res);
      await once(router.hub, 'pending');
      const [a, b] = await Promise.all([first, agentB.get(`/sync/event?event=r${round}&actor=b&payload=b${round}`).then((res) => res)]);
      const want = { a: String(round), b: `b${round}` };
      expect([(a.body as Match).payloads, (b.body as Match).payloads]).toEqual([want, want]);
    }
    expect((await request(url).get('/sync/stats')).body).toEqual({});
  });
});

describe('the objects V8 makes for them', () => {
  // A request that passes a mounted router, as every netsync request does, once turned into a hash table
  // of its properties (about 1.4 KB more per waiting request), and every response did (lib/server.ts).
  test('requests and responses through a mounted router keep fast properties, on Express 5 and 4', async () => {
    const probe = path.join(__dirname, 'probes', 'fast-properties.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', probe, 'express', 'express4'], {
      cwd: path.join(__dirname, '..', '..'),
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({
      express: { request: true, response: true },
      express4: { request: true, response: true },
    });
  });
});

describe('serverOptionsFrom', () => {
  test('gives no options when a constructor is a class, so Express swaps prototypes as usual', () => {
    const app = express();
    class ClassRequest extends IncomingMessage {}
    const ClassResponse = class extends ServerResponse {} as typeof ServerResponse;
    expect(serverOptionsFrom(app, { IncomingMessage: ClassRequest, ServerResponse })).toEqual({});
    expect(serverOptionsFrom(app, { IncomingMessage, ServerResponse: ClassResponse })).toEqual({});
    expect(Object.keys(serverOptionsFrom(app, { IncomingMessage, ServerResponse })).sort()).toEqual(['IncomingMessage', 'ServerResponse']);
  });
});
