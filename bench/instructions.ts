// Instructions benchmark: the server's main-thread instructions per request, counted by callgrind, under the
// shared-event load beside 10,000 parked never-matching waiters and without them, for netsync (log off and the
// default graph log) and for the bare Express control. Counts, not seconds: they move little on a noisy machine,
// so they tell whether the backlog adds work to each request, apart from what it does to caches and collections.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildChildPrograms, type ChildPrograms } from './http/build';
import { eventPrefix, type LoadConfig, type LoadKind } from './http/common';
import type { PhaseProbe } from './http/gc-trace';
import { killAll, killChildrenOnExit, listening, start } from './http/processes';
import { heldBy, park, runLoad, waitingIn, type ParkPlan } from './http/suite';

const quick = process.argv.includes('--quick');
const WAITERS = 10_000;
/** Long enough under callgrind (about 1/50 of the usual speed) for the JIT to settle before counting starts. */
const WARMUP_MS = 30_000;
const MEASURED_REQUESTS = 6_000;
const CLIENTS = 64;
const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

interface Variant {
  readonly name: string;
  readonly server: 'netsync' | 'express';
  readonly log?: 'off' | 'graph';
  /** The parked waiters' shape, or none. */
  readonly backlog?: Pick<ParkPlan, 'actors' | 'selectors'>;
}

const DISTINCT: Variant['backlog'] = { actors: 'distinct', selectors: 'same' };
const OWN_FRIEND: Variant['backlog'] = { actors: 'distinct', selectors: 'distinct' };

/** Pairs of runs, without and with the backlog; the Express control first. */
const COMPARISONS: readonly (readonly [Variant, Variant])[] = [
  [{ name: 'Express control', server: 'express' }, { name: 'Express control', server: 'express', backlog: DISTINCT }],
  [{ name: 'netsync, log off', server: 'netsync', log: 'off' }, { name: 'netsync, log off', server: 'netsync', log: 'off', backlog: DISTINCT }],
  [{ name: 'netsync, log off', server: 'netsync', log: 'off' }, { name: 'netsync, log off', server: 'netsync', log: 'off', backlog: OWN_FRIEND }],
  [{ name: 'netsync, graph log', server: 'netsync', log: 'graph' }, { name: 'netsync, graph log', server: 'netsync', log: 'graph', backlog: DISTINCT }],
];

function has(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Instructions of the main thread, from callgrind's per-thread file (`<out>-01`): the requests run there. V8's
 * helper threads (concurrent marking, sweeping, optimizing compiles) are left out, since when they run depends
 * on the clock rather than on the requests.
 */
function mainThreadInstructions(out: string): number {
  const text = readFileSync(`${out}-01`, 'utf8');
  // `summary:` is 0 when counting started after the process did; `totals:` holds the count.
  const line = /^totals: (\d+)/m.exec(text);
  if (line === null) throw new Error(`no totals in ${out}-01`);
  return Number(line[1]);
}

/** Counting on over the load's measured phase only: parking and warming up are left out. */
function countingProbe(pid: number): PhaseProbe {
  const instrumentation = (on: boolean): Promise<void> => {
    execFileSync('callgrind_control', ['--instr', on ? 'on' : 'off', String(pid)], { stdio: 'ignore' });
    return Promise.resolve();
  };
  return { start: () => instrumentation(true), end: () => instrumentation(false) };
}

/** One server under callgrind: park the backlog if any, warm up, count the measured phase; instructions per request. */
async function instructionsPerRequest(programs: ChildPrograms, variant: Variant, dir: string): Promise<number> {
  const out = path.join(dir, `callgrind.${Date.now()}`);
  const program = variant.server === 'netsync'
    ? [CLI, '127.0.0.1:0', '--log', variant.log ?? 'off']
    : [programs.baselineServer, 'mixed', 'prototyped'];
  const child = start('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${out}`, process.execPath, ...program]);
  try {
    const server = await listening(child, `${variant.name} under callgrind`);
    const prefix = eventPrefix();
    const kind: LoadKind = variant.server === 'netsync' ? 'shared' : 'baseline';
    const parked = variant.backlog === undefined ? undefined : await park(programs, server, {
      count: WAITERS, event: `${prefix}shared`, ...variant.backlog, eventPerWaiter: false, deadlineMs: 300_000,
    }, variant.server === 'netsync' ? () => waitingIn(server, `${prefix}shared`, 'ghost') : () => heldBy(server));
    // A short grace: counting stops soon after the load does, so what an idle server does stays out of the
    // count; the few requests left without a mate are aborted.
    const config: LoadConfig = {
      kind, targets: [server.url], clients: CLIENTS, eventPrefix: prefix,
      warmupMs: WARMUP_MS, durationMs: 600_000, maxRequests: MEASURED_REQUESTS, graceMs: 100,
    };
    const { result } = await runLoad(programs, config, [server], countingProbe(child.pid));
    if (result.errors > 0) throw new Error(`${result.errors} load errors: ${result.errorSamples.join('; ')}`);
    await parked?.parker.stop();
    // Callgrind writes its counts as the process exits.
    await child.stop(60_000);
    return mainThreadInstructions(out) / result.completed;
  } finally {
    await child.stop();
  }
}

async function main(): Promise<void> {
  console.log(`netsync instructions benchmark: ${WAITERS.toLocaleString('en-US')} parked waiters, ${CLIENTS} clients, ` +
    `${MEASURED_REQUESTS.toLocaleString('en-US')} counted requests after a ${WARMUP_MS / 1000} s warm-up, under valgrind --tool=callgrind`);
  if (quick) {
    console.log('skipped with --quick: a server under callgrind needs minutes');
    return;
  }
  if (!has('valgrind') || !has('callgrind_control')) {
    console.log('skipped: valgrind (with callgrind_control) is not installed');
    return;
  }
  killChildrenOnExit();
  const programs = await buildChildPrograms();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'netsync-instructions-'));
  const without = new Map<string, number>();
  try {
    for (const [plain, loaded] of COMPARISONS) {
      let before = without.get(plain.name);
      if (before === undefined) {
        before = await instructionsPerRequest(programs, plain, dir);
        without.set(plain.name, before);
      }
      const after = await instructionsPerRequest(programs, loaded, dir);
      const shape = loaded.backlog === OWN_FRIEND ? 'own-friend' : 'distinct-actor';
      console.log(`${loaded.name}: ${Math.round(after).toLocaleString('en-US')} main-thread instructions per request beside ${WAITERS.toLocaleString('en-US')} ` +
        `${shape} waiters, ${Math.round(before).toLocaleString('en-US')} without (${(after / before).toFixed(2)}x)`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    killAll();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
