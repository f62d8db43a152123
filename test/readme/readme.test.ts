// Runs the README's curl examples against a real router over HTTP, so the README's outputs cannot drift.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import type { Netsync } from '../../lib/netsync';
import { netsync } from '../../lib/router';
import { readExamples, type Command, type Example } from './examples';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
const EXAMPLES = readExamples(README);

/** A curl command in flight. */
interface Run {
  readonly command: Command;
  readonly done: Promise<void>;
  text: string | undefined;
}

/** A server like `npm start` (the router at the root), shared by an example and its `continued` blocks. */
interface Session {
  readonly server: Server;
  readonly hub: Netsync;
  readonly base: string;
  readonly runs: Run[];
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
  return { server, hub: router.hub, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, runs: [] };
}

async function closeSession(session: Session): Promise<void> {
  await session.hub.close();
  await Promise.all(session.runs.map((run) => run.done));
  session.server.closeAllConnections();
  await new Promise((resolve) => session.server.close(resolve));
}

function start(session: Session, command: Command): Run {
  const run: Run = {
    command,
    text: undefined,
    done: fetch(`${session.base}${command.path}`, { method: command.method, headers: command.headers, body: command.body })
      .then((res) => res.text())
      .then((text) => {
        run.text = text;
      }),
  };
  return run;
}

/**
 * Run the commands in order as a shell would: a foreground command to its end, a background one (`&`) until
 * it finished or waits in the hub; then wait until every command that is not waiting has finished.
 * Returns the commands (this block's and earlier blocks' of the session) that finished meanwhile.
 */
async function runBlock(session: Session, commands: readonly Command[]): Promise<Run[]> {
  const before = new Set(session.runs.filter((run) => run.text !== undefined));
  for (const command of commands) {
    const stop = new AbortController();
    const pending = once(session.hub, 'pending', { signal: stop.signal }).catch(() => undefined);
    const run = start(session, command);
    session.runs.push(run);
    await (command.background ? Promise.race([run.done, pending]) : run.done);
    stop.abort();
  }
  for (;;) {
    const open = session.runs.filter((run) => run.text === undefined);
    if (open.length === 0 || open.length === session.hub.pendingCount) break;
    await Promise.race(open.map((run) => run.done));
  }
  return session.runs.filter((run) => run.text !== undefined && !before.has(run));
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
function comparable(text: string, command: Command, language: Example['output']['language']): string {
  if (language === 'yaml') return text.trim();
  if (command.path.startsWith('/stats')) return JSON.stringify(normaliseStats(JSON.parse(text)));
  return JSON.stringify(JSON.parse(text));
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
    const key = sessionName(name);
    let session = sessions.get(key);
    if (session === undefined || name === key) {
      session = await openSession();
      sessions.set(key, session);
    }
    const finished = await runBlock(session, example.commands);
    const docs = example.output.language === 'json' ? example.output.text.split(/\n\s*\n/).filter((d) => d.trim() !== '') : [example.output.text];
    expect(finished.length).toBeGreaterThan(0);
    // One shown output stands for every command that finished; otherwise one per command, in order.
    const shown = docs.length === 1 ? finished.map(() => docs[0] as string) : docs;
    const actual = finished.map((run) => comparable(run.text as string, run.command, example.output.language));
    const expected = shown.map((doc, i) => comparable(doc, (finished[i] ?? finished[0] as Run).command, example.output.language));
    expect(actual).toEqual(expected);
    // An example that no later block continues must leave nobody waiting.
    const continued = EXAMPLES.some((other) => other.name === `${key} continued` && EXAMPLES.indexOf(other) > EXAMPLES.indexOf(example));
    if (!continued) expect(session.hub.pendingCount).toBe(0);
  });
});
