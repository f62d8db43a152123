// Runs the README's quick start and programmatic example as written.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import http, { type Server, type ServerOptions } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { codeBlock, runModule } from './code';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The servers the README's examples started; closed after the file. */
const servers: Server[] = [];

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Two requests to the README server's `/sync/event` meet and each gets both payloads; resolves with `/sync`'s URL. */
async function twoMeetAt(server: Server): Promise<string> {
  if (!server.listening) await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sync`;
  const answers = await Promise.all(['a', 'b'].map(async (actor) => (await fetch(`${base}/event?event=e&actor=${actor}&payload=${actor}`)).json()));
  expect(answers.map((answer) => (answer as { payloads: unknown }).payloads)).toEqual([{ a: 'a', b: 'b' }, { a: 'a', b: 'b' }]);
  return base;
}

describe('README quick start', () => {
  /** express, except that `app.listen(port)` listens on a free port of 127.0.0.1 (the README's 3000 may be taken). */
  const expressOnFreePort = Object.assign((...args: Parameters<typeof express>) => {
    const app = express(...args);
    const listen = app.listen.bind(app);
    Object.assign(app, {
      listen: () => {
        const server = listen(0, '127.0.0.1');
        servers.push(server);
        return server;
      },
    });
    return app;
  }, express);

  it('mounts a router at /sync where two requests meet', async () => {
    await runModule(codeBlock(README, 'quick-start'), { modules: { express: expressOnFreePort } });
    expect(servers).toHaveLength(1);
    const base = await twoMeetAt(servers[0] as Server);
    expect(await (await fetch(`${base}/stats`)).json()).toEqual({});
  });
});

describe('README serving many waiters', () => {
  /** node:http, except that its servers listen on a free port of 127.0.0.1 and say which options they got. */
  const options: ServerOptions[] = [];
  const httpOnFreePort = {
    ...http,
    createServer: (serverOptions: ServerOptions, listener: http.RequestListener) => {
      options.push(serverOptions);
      const server = http.createServer(serverOptions, listener);
      const listen = server.listen.bind(server);
      servers.push(server);
      return Object.assign(server, { listen: () => listen(0, '127.0.0.1') });
    },
  };

  it("serves the app from a server that builds requests with the app's prototypes", async () => {
    const before = servers.length;
    await runModule(codeBlock(README, 'server-options'), { modules: { 'node:http': httpOnFreePort } });
    expect(servers).toHaveLength(before + 1);
    expect(Object.keys(options[0] ?? {}).sort()).toEqual(['IncomingMessage', 'ServerResponse']);
    await twoMeetAt(servers.at(-1) as Server);
  });
});

describe('README programmatic example', () => {
  it('runs to its end and prints both payloads', async () => {
    const printed: unknown[][] = [];
    await runModule(codeBlock(README, 'programmatic'), { console: { log: (...values: unknown[]) => printed.push(values), error: console.error } });
    expect(printed).toEqual([[{ CUST: 'Please give me a chocolate', SHOP: 'Here you are' }]]);
  });
});

describe('README mate range and widening examples', () => {
  it('lobby: three players go together once the window ends', async () => {
    const printed: unknown[][] = [];
    await runModule(codeBlock(README, 'lobby'), { console: { log: (...values: unknown[]) => printed.push(values), error: console.error } });
    expect(printed).toEqual([[['ann', 'bob', 'cy']]]);
  });

  it('widen: ann widens to level 3 to 7 and meets bob', async () => {
    const printed: unknown[][] = [];
    await runModule(codeBlock(README, 'widen'), { console: { log: (...values: unknown[]) => printed.push(values), error: console.error } });
    expect(printed).toEqual([[[['ann', 1], ['bob', undefined]]]]);
  });
});
