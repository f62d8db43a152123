// Headless Chromium for the browser suites (the system's chromium, driven by playwright-core; never a download),
// the example app served from a private build of the package, and small waiting helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { buildPackage, consumerProject, REPO, type BuiltPackage } from '../consumers/package';
import { describeWhen } from '../helpers/describe-when';

/** The browser the suites drive: Debian's `chromium` package unless CHROMIUM_PATH names another. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the suites leave screenshots for whoever reviews a change (git-ignored). */
export const SCREENSHOTS = join(REPO, 'test', 'browser', 'screenshots');

const available = existsSync(CHROMIUM);
const required = process.env.NETSYNC_REQUIRE_BROWSER === '1';

/**
 * `describe` for suites that need Chromium: runs when it is installed; when it is not, the suite fails if
 * NETSYNC_REQUIRE_BROWSER=1 (CI) and is skipped with a notice otherwise.
 */
export function describeBrowser(name: string, fn: () => void): void {
  describeWhen({
    available, required, test: 'needs Chromium', skippedAs: 'Chromium not available',
    message: `no browser at ${CHROMIUM} and NETSYNC_REQUIRE_BROWSER=1`,
    onSkip: (suite) => {
      process.stderr.write(`\nnotice: no browser at ${CHROMIUM}; "${suite}" is skipped (install chromium, or set NETSYNC_REQUIRE_BROWSER=1 to make that a failure)\n`);
    },
  }, name, fn);
}

/**
 * Chromium, headless, with a fresh profile (Playwright gives every launch its own user data directory).
 * Without the background-networking flags Chromium reaches out to Google's services at start, which a closed
 * network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** The example app running as `PORT=0 node server.js` in a project that installed the built package. */
export interface ExampleServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the server printed (its netsync log). */
  output(): string;
  /** SIGTERM, as a process manager stops it; SIGKILL if it has not exited within `graceMs`. Resolves with the exit. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Builds the package, copies example-app/ into a project that has it installed (as a developer copies the
 * example), and starts the server on a free port. `remove` deletes the build once the server has stopped.
 */
export async function startExample(): Promise<{ server: ExampleServer; remove: () => Promise<void> }> {
  const pkg: BuiltPackage = await buildPackage();
  try {
    const project = await consumerProject(pkg, 'lobby');
    await cp(join(REPO, 'example-app'), join(project, 'example-app'), { recursive: true });
    const server = await serve(join(project, 'example-app', 'server.js'));
    return { server, remove: () => pkg.remove() };
  } catch (error) {
    await pkg.remove();
    throw error;
  }
}

async function serve(script: string): Promise<ExampleServer> {
  const child = spawn(process.execPath, [script], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let output = '';
  const port = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const found = /listening on http:\/\/localhost:(\d+)/.exec(output);
      if (found?.[1] !== undefined) resolve(found[1]);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    void exited.then(([code]) => reject(new Error(`the example server exited (${String(code)}) before it listened:\n${output}`)));
  });
  const url = `http://127.0.0.1:${await port}`;
  return {
    url,
    process: child,
    output: () => output,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(killer);
      }
      return { code: child.exitCode, signal: child.signalCode };
    },
  };
}

/**
 * Resolves with `probe()`'s first result that `done` accepts, asking again every `everyMs`; rejects after
 * `withinMs` with the last result in the message. For states reached through a server or a page.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { withinMs = 15_000, everyMs = 50 } = {},
): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms; last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
