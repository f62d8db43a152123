// Runs the README's curl examples as written, in a shell with the real curl, against a real router over HTTP,
// so the README's outputs cannot drift.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import express from 'express';
import type { Netsync } from '../../lib/netsync';
import { netsync } from '../../lib/router';
import { readExamples, type Example } from './examples';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const EXAMPLES = readExamples(README);

/**
 * Put in front of every script. `curl` reaches the test's server whatever host and port the README writes
 * (`0:8000`). `sleep` is there so that a backgrounded request reaches the server before the next one: here it
 * asks the test, which answers once every request started so far waits in the hub or has its answer, so the
 * run does not depend on how fast this machine is. File descriptor 3 is the line to the test.
 */
const PRELUDE = `
curl() { command curl -sS --connect-to "::127.0.0.1:$NETSYNC_PORT" "$@"; }
sleep() { echo sleep >&3; read -r _ <&3; }
`;

/** A server like `npx netsync :8000` (the router at the root), shared by an example and its `continued` blocks. */
interface Session {
  readonly server: Server;
  readonly hub: Netsync;
  readonly port: number;
  /** Commands started by this session's scripts so far. */
  started: number;
  /** Every answer line printed so far, of every script of the session (background commands print late). */
  readonly lines: string[];
  /** Wakes whoever waits for the next line. */
  readonly lineListeners: Set<() => void>;
  /** Each script's shell and when its output ends (backgrounded commands outlive the shell). */
  readonly scripts: Array<{ readonly child: ChildProcess; readonly closed: Promise<unknown> }>;
}

const sessions = new Map<string, Session>();

afterAll(async () => {
  for (const session of sessions.values()) await closeSession(session);
});

async function openSession(): Promise<Session> {
  const app = express();
  app.disable('x-powered-by');
  const router = netsync();
  app.use(router);
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { server, hub: router.hub, port, started: 0, lines: [], lineListeners: new Set(), scripts: [] };
}

async function closeSession(session: Session): Promise<void> {
  // Background commands still waiting get their 503 now and end.
  await session.hub.close();
  await Promise.all(session.scripts.map((script) => script.closed));
  session.server.closeAllConnections();
  await new Promise((resolve) => session.server.close(resolve));
}

/** Resolves with the next answer line of the session, or on the next `pending` of its hub. */
function nextChange(session: Session): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      session.lineListeners.delete(done);
      session.hub.off('pending', done);
      resolve();
    };
    session.lineListeners.add(done);
    session.hub.on('pending', done);
  });
}

/** Resolves once every command started so far has its answer or waits in the hub. */
async function settled(session: Session, started: number): Promise<void> {
  while (started - session.lines.length !== session.hub.pendingCount) await nextChange(session);
}

/**
 * Run `example`'s script in bash; returns the answers printed while it ran, including those of earlier
 * blocks' background commands, once every command is answered or waits in the hub.
 */
async function runScript(session: Session, example: Example): Promise<string[]> {
  const before = session.lines.length;
  const child = spawn('bash', ['-c', `${PRELUDE}\n${example.script}`], {
    env: { ...process.env, NETSYNC_PORT: String(session.port) },
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  session.scripts.push({ child, closed: once(child, 'close') });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const text = { partial: '' };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    // Every answer ends with a line break; a YAML answer is one foreground command's whole output.
    if (example.output.language === 'yaml') {
      text.partial += chunk;
      return;
    }
    const parts = (text.partial + chunk).split('\n');
    text.partial = parts.pop() ?? '';
    for (const line of parts) session.lines.push(line);
    for (const listener of [...session.lineListeners]) listener();
  });
  const control = child.stdio[3] as Duplex;
  let sleeps = 0;
  control.setEncoding('utf8').on('data', (chunk: string) => {
    const asked = chunk.split('\n').filter((line) => line === 'sleep').length;
    for (let i = 0; i < asked; i++) {
      const commandsBefore = example.sleepsAfter[sleeps++] ?? example.commands.length;
      void settled(session, session.started + commandsBefore).then(() => control.write('\n'));
    }
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the script of ${example.name} exited with ${String(code)}: ${stderr}`);
  session.started += example.commands.length;
  if (example.output.language === 'yaml') {
    // Only foreground commands here (checked by the caller): the output is complete once stdout closes.
    if (child.stdout?.readableEnded !== true) await once(child.stdout as NodeJS.ReadableStream, 'end');
    session.lines.push(text.partial);
  }
  await settled(session, session.started);
  expect(stderr).toBe('');
  return session.lines.slice(before);
}

/** Request ids and arrival times differ on every run: number the ids and fix the times. */
function normaliseStats(tree: Record<string, Record<string, Record<string, { created_at?: unknown }>>>): unknown {
  let n = 0;
  const out: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const [event, actors] of Object.entries(tree)) {
    out[event] = {};
    for (const [actor, ids] of Object.entries(actors)) {
      const byId: Record<string, unknown> = {};
      for (const entry of Object.values(ids)) byId[`id${++n}`] = { ...entry, created_at: 'TIME' };
      (out[event] as Record<string, unknown>)[actor] = byId;
    }
  }
  return out;
}

/** The text a command printed, or the README's text for it, in one comparable form. */
function comparable(text: string, language: Example['output']['language']): string {
  if (language === 'yaml') return text.trim();
  const value = JSON.parse(text) as Record<string, unknown>;
  // Anything but a match or an error is a /stats tree.
  const isStats = typeof value === 'object' && value !== null && !('payloads' in value) && !('error' in value);
  return JSON.stringify(isStats ? normaliseStats(value as Parameters<typeof normaliseStats>[0]) : value);
}

function sessionName(name: string): string {
  return name.replace(/ continued$/, '');
}

describe('README examples', () => {
  it('has the examples the README promises', () => {
    expect(EXAMPLES.map((example) => example.name)).toEqual(
      expect.arrayContaining(['pair', 'yaml', 'game', 'game continued']),
    );
    for (const example of EXAMPLES) expect(example.commands.length).toBeGreaterThan(0);
  });

  it.each(EXAMPLES.map((example) => [example.name, example] as const))('%s prints what the README shows', async (name, example) => {
    if (example.output.language === 'yaml') expect(example.commands.every((command) => !command.background)).toBe(true);
    const key = sessionName(name);
    let session = sessions.get(key);
    if (session === undefined || name === key) {
      session = await openSession();
      sessions.set(key, session);
    }
    const finished = await runScript(session, example);
    const docs = example.output.language === 'json' ? example.output.text.split(/\n\s*\n/).filter((d) => d.trim() !== '') : [example.output.text];
    expect(finished.length).toBeGreaterThan(0);
    // One shown output stands for every answer printed; otherwise one per answer (compared in any order).
    const shown = docs.length === 1 ? finished.map(() => docs[0] as string) : docs;
    const actual = finished.map((text) => comparable(text, example.output.language)).sort();
    const expected = shown.map((doc) => comparable(doc, example.output.language)).sort();
    expect(actual).toEqual(expected);
    // An example that no later block continues must leave nobody waiting.
    const continued = EXAMPLES.some((other) => other.name === `${key} continued` && EXAMPLES.indexOf(other) > EXAMPLES.indexOf(example));
    if (!continued) expect(session.hub.pendingCount).toBe(0);
  });
});
