// Runs the built CLI as a child process and lets a test await its output lines and its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { buildPackage, type BuiltPackage } from '../consumers/package';

/** A running `node dist/cli.js …`. */
export interface CliChild {
  readonly process: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first stdout line (past or future) that satisfies `test`. */
  line(test: (line: string) => boolean): Promise<string>;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** This environment without REDIS_URL, so the CLI uses Redis only when a test passes `--redis`. */
function memoryEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REDIS_URL;
  return env;
}

/** Start the CLI with `args`. */
export function startCli(cli: string, args: readonly string[], env: NodeJS.ProcessEnv = memoryEnv()): CliChild {
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiting: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (let i = waiting.length - 1; i >= 0; i--) {
        const waiter = waiting[i];
        if (waiter !== undefined && waiter.test(line)) {
          waiting.splice(i, 1);
          waiter.resolve(line);
        }
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return {
    process: child,
    lines,
    stderr: () => stderr,
    exited,
    line(test) {
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiting.push({ test, resolve });
        void exited.then(({ code }) => reject(new Error(`cli exited (${code}) before the line; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`)));
      });
    },
  };
}

/** The startup line: `netsync listening on URL[ (hint)], store: STORE`. */
export const STARTUP_LINE = /^netsync listening on (http:\/\/\S+)(?: \(all interfaces; try (http:\/\/\S+)\))?, store: (\S+)$/;

/** Start the CLI on a free port of 127.0.0.1 and return it with its base URL once it listens. */
export async function serveCli(cli: string, args: readonly string[] = [], env?: NodeJS.ProcessEnv): Promise<{ child: CliChild; url: string }> {
  const child = startCli(cli, ['127.0.0.1:0', ...args], env);
  const line = await child.line((l) => l.startsWith('netsync listening on '));
  const url = STARTUP_LINE.exec(line)?.[1];
  if (url === undefined) throw new Error(`unexpected startup line: ${line}`);
  return { child, url };
}

/**
 * For a suite of the built CLI: builds the package once, and after each test kills every CLI it pushed to
 * `running` (even when the test failed). `pkg()` is the build, once `beforeAll` has run.
 */
export function builtCliSuite(): { pkg: () => BuiltPackage; running: CliChild[] } {
  let built: BuiltPackage | undefined;
  const running: CliChild[] = [];
  beforeAll(async () => {
    built = await buildPackage();
  }, 120_000);
  afterEach(async () => {
    for (const child of running.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
  });
  afterAll(async () => {
    await built?.remove();
  });
  return {
    pkg: () => {
      if (built === undefined) throw new Error('the package is built in beforeAll');
      return built;
    },
    running,
  };
}
