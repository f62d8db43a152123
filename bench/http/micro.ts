// Runs the standalone micro-benchmarks (bench/<name>.ts) as child processes and keeps their output.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { start } from './processes';

/** The micro-benchmarks, in the order they run. */
export const MICRO_BENCHMARKS = ['selector', 'engine', 'pretenuring', 'instructions', 'redis'] as const;

/** A micro-benchmark's name. */
export type MicroName = (typeof MICRO_BENCHMARKS)[number];

/** What one micro-benchmark printed, or why it did not run. */
export interface MicroResult {
  readonly name: MicroName;
  readonly output: string;
  readonly status: 'ok' | 'failed' | 'missing';
}

/** Run `bench/<name>.ts` under the tsx loader, echoing its output; `--quick` is passed through. */
export async function runMicro(name: MicroName, quick: boolean, limitMs: number, log: (line: string) => void): Promise<MicroResult> {
  const file = path.resolve(__dirname, '..', `${name}.ts`);
  if (!existsSync(file)) {
    log(`bench/${name}.ts: not present, skipped`);
    return { name, output: '', status: 'missing' };
  }
  log(`── bench/${name}.ts${quick ? ' --quick' : ''}`);
  const child = start(process.execPath, ['--import', 'tsx', file, ...(quick ? ['--quick'] : [])], { echo: true });
  const limit = setTimeout(() => {
    log(`bench/${name}.ts: still running after ${limitMs / 1000} s, stopped`);
    void child.stop();
  }, limitMs);
  const code = await child.closed;
  clearTimeout(limit);
  const output = [...child.history(), ...(child.stderr() ? [child.stderr().trimEnd()] : [])].join('\n');
  return { name, output, status: code === 0 ? 'ok' : 'failed' };
}
