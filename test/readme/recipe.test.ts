// The README's recipes, run as written: testing a host app's netsync integration with supertest, and the
// CI barrier script (bash and curl against a real server).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import request from 'supertest';
import type { Netsync } from '../../lib/netsync';
import { netsync } from '../../lib/router';
import type { Match } from '../../lib/types';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** A host app as the recipe assumes: its own route, netsync at /sync. */
function createApp(): { app: express.Express; hub: ReturnType<typeof netsync>['hub'] } {
  const app = express();
  const sync = netsync();
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  app.use('/sync', sync);
  return { app, hub: sync.hub };
}

describe('the supertest recipe', () => {
  it('lets two players meet', async () => {
    const { app, hub } = createApp();
    const join = (actor: string): request.Test =>
      request(app).get('/sync/event').query({ event: 'joinGame', actor, payload: actor, timeout: '5s' });

    const [a, b] = await Promise.all([join('player1'), join('player2')]);

    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body.payloads).toEqual({ player1: 'player1', player2: 'player2' });
    await hub.close();
  });

  it('sees a lonely request time out, and a waiter answered shutting_down on close', async () => {
    const { app, hub } = createApp();
    const lonely = await request(app).get('/sync/event').query({ event: 'e', actor: 'a', timeout: '50ms' });
    expect(lonely.status).toBe(504);
    expect(lonely.body.error.code).toBe('timeout');

    const waiting = request(app).get('/sync/event').query({ event: 'e', actor: 'a' }).then((res) => res);
    await new Promise((resolve) => hub.once('pending', resolve));
    await hub.close();
    const res = await waiting;
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('shutting_down');
  });
});

/** The `bash` block after `<!-- script: NAME -->` in the README. */
function scriptBlock(name: string): string {
  const found = new RegExp(`<!-- script: ${name} -->\\s*\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (found?.[1] === undefined) throw new Error(`README has no bash block marked script: ${name}`);
  return found[1];
}

/** What a script did: its exit code and its output. */
interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `script` in bash with `env` added to this process's environment (curl goes straight to the loopback server). */
async function runScript(script: string, env: Record<string, string>): Promise<Run> {
  const direct = { NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' };
  const child = spawn('bash', ['-c', script], { env: { ...process.env, ...direct, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Sorted lines of a script's output. */
function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '').sort();
}

describe('the CI barrier recipe', () => {
  const SCRIPT = scriptBlock('ci-barrier');
  let server: Server;
  let hub: Netsync;
  let sync: string;
  const groups: string[][] = [];

  beforeAll(async () => {
    // As `npx netsync :8000` serves it: the router at the root.
    const app = express();
    const router = netsync();
    app.use(router);
    hub = router.hub;
    hub.on('match', (_group: unknown, match: Match) => groups.push(match.members.map((member) => member.actor)));
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    sync = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(() => {
    // Every run's requests have been answered by the time the script exits: nobody is left waiting.
    expect(hub.pendingCount).toBe(0);
    groups.splice(0);
  });

  afterAll(async () => {
    await hub.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('starts the three jobs together once all of them are up', async () => {
    const run = await runScript(SCRIPT, { SYNC: sync, RUN: 'together', WAIT: '20s' });
    expect(run).toEqual({
      code: 0,
      stdout: expect.any(String),
      stderr: '',
    });
    expect(lines(run.stdout)).toEqual(['load1: everyone is up, starting', 'load2: everyone is up, starting', 'server: everyone is up, starting']);
    expect(groups.map((actors) => [...actors].sort())).toEqual([['load1', 'load2', 'server']]);
  });

  it('fails every job that waited when one job never comes', async () => {
    const serverJob = 'job server & pids+=($!)\n';
    expect(SCRIPT).toContain(serverJob);
    const run = await runScript(SCRIPT.replace(serverJob, ''), { SYNC: sync, RUN: 'missing-one', WAIT: '500ms' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(lines(run.stderr)).toEqual(['load1: the others did not arrive within 500ms', 'load2: the others did not arrive within 500ms']);
    expect(groups).toEqual([]);
  });

  it('fails every job when netsync does not answer', async () => {
    // A port that was free a moment ago: nothing listens there.
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const nowhere = `http://127.0.0.1:${port}`;
    const run = await runScript(SCRIPT, { SYNC: nowhere, RUN: 'no-server', WAIT: '20s' });
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual(['load1', 'load2', 'server'].map((job) => `${job}: no answer from netsync at ${nowhere}`));
  });
});
