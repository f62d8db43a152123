// Child processes of the benchmark: spawn, read their lines, sample /proc, and kill every one of them at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import readline from 'node:readline';

const children = new Set<ChildProcess>();

/** A spawned child with a queue of its stdout lines. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the next stdout line matching `test`, rejects on exit or after `timeoutMs`. */
  nextLine(test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string>;
  /** Everything the child wrote to stderr so far (for error messages). */
  stderr(): string;
  /** Every stdout line so far, consumed or not. */
  history(): readonly string[];
  /** Resolves with the exit code once the child exited and its output was read to the end. */
  readonly closed: Promise<number | null>;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawn `command args` with piped stdio; the child is killed by `killAll`. */
export function start(command: string, args: readonly string[], options: { echo?: boolean } = {}): Child {
  const proc = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
  children.add(proc);
  const lines: string[] = [];
  const all: string[] = [];
  const waiters = new Set<() => void>();
  let err = '';
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      children.delete(proc);
      for (const wake of waiters) wake();
      resolve();
    }),
  );
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    if (options.echo) process.stderr.write(chunk);
  });
  readline.createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (options.echo) process.stdout.write(`${line}\n`);
    lines.push(line);
    all.push(line);
    for (const wake of waiters) wake();
  });

  const nextLine = (test: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const at = lines.findIndex(test);
        if (at >= 0) {
          const [line] = lines.splice(0, at + 1).slice(-1);
          done();
          resolve(line as string);
        } else if (exited) {
          done();
          reject(new Error(`${what}: process exited (${err.trim().slice(-400) || 'no stderr'})`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: no answer within ${timeoutMs} ms (${err.trim().slice(-400)})`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const stop = async (graceMs = 2000): Promise<void> => {
    if (exited) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };

  const closed = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return { process: proc, pid: proc.pid, nextLine, stderr: () => err, history: () => all, closed, stop };
}

/** Kill every child still running (synchronously, so it also works from an exit handler). */
export function killAll(): void {
  for (const proc of children) proc.kill('SIGKILL');
  children.clear();
}

/** Kill the children when the benchmark ends, fails or is interrupted. */
export function killChildrenOnExit(): void {
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** Resident set size of a process in bytes (from /proc). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** User+system CPU a process has used, in milliseconds (from /proc, clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The port in a server's "listening" line (`…127.0.0.1:PORT…`, `port PORT`). */
export function portIn(line: string): number | undefined {
  const match = /(?:127\.0\.0\.1|localhost|\]|0\.0\.0\.0):(\d{2,5})\b/.exec(line) ?? /\bport\D{0,3}(\d{2,5})\b/i.exec(line);
  return match ? Number(match[1]) : undefined;
}

/** A server process driven over loopback. */
export interface Server {
  readonly child: Child;
  readonly port: number;
  readonly url: string;
}

/** Resolves once `child` prints the port it listens on (within 15 s). */
export async function listening(child: Child, what: string): Promise<Server> {
  const line = await child.nextLine((l) => portIn(l) !== undefined, 15000, what);
  const port = portIn(line) as number;
  return { child, port, url: `http://127.0.0.1:${port}` };
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
