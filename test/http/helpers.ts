// Shared set-up of the HTTP suites: a listening app around a router, and waiting on the hub's events instead of sleeping.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type ServerOptions } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { load } from 'js-yaml';
import { netsync, type NetsyncRouter, type NetsyncRouterOptions } from '../../lib/router';
import type { Netsync } from '../../lib/netsync';

/** A listening server and what it serves. */
export interface Served {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * Listen on an ephemeral port of 127.0.0.1 (as `app.listen` does, with `options` for the server); `close`
 * also drops connections still waiting.
 */
export async function serve(app: Express, options: ServerOptions = {}): Promise<Served> {
  const server = createServer(options, app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A host app around `router` at `mount`: its own `/health` and `/boom` (throws), its own 404 ("host 404") and
 * error handler (418, "host error handler"); `before` adds to the app ahead of them all.
 */
export function hostApp(mount: string, router: NetsyncRouter, before?: (app: Express) => void): Express {
  const app = express();
  before?.(app);
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  app.use(mount, router);
  app.get('/boom', () => {
    throw new Error('host failure');
  });
  app.use((_req: Request, res: Response) => {
    res.status(404).send('host 404');
  });
  app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(418).send('host error handler');
  });
  return app;
}

/** An app with a router mounted at `mount`, served; `close` also closes the router's hub. */
export async function serveRouter(options: NetsyncRouterOptions = {}, mount = '/'): Promise<ServedRouter> {
  const app = express();
  const router = netsync(options);
  app.use(mount, router);
  const served = await serve(app);
  return {
    ...served,
    router,
    hub: router.hub,
    close: async () => {
      await served.close();
      await router.hub.close();
    },
  };
}

/** What `serveRouter` gives: a served app around a router, with the router's hub. */
export type ServedRouter = Served & { router: NetsyncRouter; hub: Netsync };

/**
 * Serve a fresh default router around every test of the calling file. The returned object reads the
 * current test's server, so a suite declares it once at the top.
 */
export function routerPerTest(): ServedRouter {
  let current: ServedRouter | undefined;
  beforeEach(async () => {
    current = await serveRouter();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const now = (): ServedRouter => {
    if (current === undefined) throw new Error('the served router exists only inside a test');
    return current;
  };
  return {
    get url() {
      return now().url;
    },
    get server() {
      return now().server;
    },
    get router() {
      return now().router;
    },
    get hub() {
      return now().hub;
    },
    close: () => now().close(),
  };
}

/** Resolves once `hub` has at least `count` waiting callers. */
export async function waitForPending(hub: Netsync, count: number): Promise<void> {
  while (hub.pendingCount < count) await once(hub, 'pending');
  // `pending` is emitted before the store holds the request; stats() waits for the store's view.
  await hub.stats();
}

/** Parse a YAML answer. */
export function yaml(text: string): unknown {
  return load(text);
}
