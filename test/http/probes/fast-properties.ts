// Run as its own Node process with --allow-natives-syntax (see server-options.test.ts): serves requests through
// a mounted router under expressServerOptions and prints whether V8 kept each request and response in fast
// mode (fields at fixed places) rather than turning it into a hash table of its properties.
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expressServerOptions } from '../../../lib/server';

// The syntax is only accepted at run time under the flag, so it is compiled from text here.
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

interface Express4or5 {
  (): ExpressApp;
  Router(): { all(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void };
}
interface ExpressApp {
  (req: IncomingMessage, res: ServerResponse): void;
  request: object;
  response: object;
  use(handler: unknown): void;
}

async function probe(moduleName: string): Promise<{ request: boolean; response: boolean }> {
  const express = (await import(moduleName)).default as Express4or5;
  const app = express();
  const seen: Array<[IncomingMessage, ServerResponse]> = [];
  const router = express.Router();
  router.all('/event', (req, res) => {
    seen.push([req, res]);
    res.end('ok');
  });
  // Mounted the way hosts mount netsync: a router inside the app.
  app.use(router);
  const server = createServer(expressServerOptions(app), app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  // Past V8's first few objects of a kind, once it has settled their layout.
  for (let i = 0; i < 12; i++) {
    await new Promise<void>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/event?event=e&actor=a' }, (res) => res.resume().on('end', resolve)).on('error', reject);
    });
  }
  server.close();
  const [req, res] = seen[seen.length - 1] as [IncomingMessage, ServerResponse];
  return { request: hasFastProperties(req), response: hasFastProperties(res) };
}

async function main(): Promise<void> {
  const results: Record<string, { request: boolean; response: boolean }> = {};
  for (const name of process.argv.slice(2)) results[name] = await probe(name);
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

void main();
