// Pretenuring benchmark: the hub's cost per request, in a fresh process, beside a backlog that arrived over many
// event-loop turns (as a restarted server's reconnecting clients do), with V8's allocation-site pretenuring on
// (Node's default) and off (the standalone server's setting, lib/cli/heap.ts). Each measurement is a process of
// its own: V8's decisions last for the life of a process.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { tuneHeap } from '../lib/cli/heap';
import { Netsync } from '../lib/netsync';
import { median } from './http/common';

const quick = process.argv.includes('--quick');
const BACKLOG = quick ? 2_000 : 10_000;
/** Parked per event-loop turn: the backlog arrives over many turns, with collections between them. */
const PARK_BATCH = 500;
/** Pairs formed per turn while measuring, as a busy server sees them. */
const PAIRS_PER_TURN = 32;
const WARMUP_TURNS = quick ? 200 : 1_000;
const MEASURED_TURNS = quick ? 300 : 2_000;
const REPEATS = quick ? 1 : 5;
const ROUNDS = quick ? 1 : 3;

type Setting = 'default' | 'server';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One process's measurement: microseconds per request of pairs in the shared event, median of REPEATS. */
async function child(setting: Setting, backlog: number): Promise<number> {
  if (setting === 'server') tuneHeap();
  const hub = new Netsync({ maxPending: backlog + 2 * PAIRS_PER_TURN });
  const parked: Promise<unknown>[] = [];
  for (let i = 0; i < backlog; i++) {
    // Each its own actor waiting for its own absent friend (`npm run bench -- backlog`'s own-friend shape).
    parked.push(hub.send({ event: 'shared', actor: `ghost${i}`, selector: `actor=absent${i}` }).catch(() => undefined));
    if (i % PARK_BATCH === PARK_BATCH - 1) await nextTurn();
  }
  const turns = async (count: number): Promise<number> => {
    const start = performance.now();
    for (let turn = 0; turn < count; turn++) {
      const sends: Promise<unknown>[] = [];
      for (let i = 0; i < PAIRS_PER_TURN; i++) {
        sends.push(hub.send({ event: 'shared', actor: `a${i}`, payload: i }), hub.send({ event: 'shared', actor: `b${i}`, payload: i }));
      }
      await Promise.all(sends);
      await nextTurn();
    }
    return ((performance.now() - start) * 1000) / (count * 2 * PAIRS_PER_TURN);
  };
  await turns(WARMUP_TURNS);
  const times: number[] = [];
  for (let r = 0; r < REPEATS; r++) times.push(await turns(MEASURED_TURNS));
  await hub.close();
  await Promise.all(parked);
  return median(times);
}

function measure(setting: Setting, backlog: number): number {
  const run = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--child', setting, String(backlog)], { encoding: 'utf8' });
  const us = Number(run.stdout.trim());
  if (run.status !== 0 || !Number.isFinite(us)) throw new Error(`child (${setting}, backlog ${backlog}) failed: ${run.stderr || run.stdout}`);
  return us;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--child');
  if (at >= 0) {
    const us = await child(process.argv[at + 1] as Setting, Number(process.argv[at + 2]));
    process.stdout.write(`${us}\n`);
    return;
  }
  console.log(`netsync pretenuring benchmark: pairs in one event beside ${BACKLOG} own-friend waiters parked ${PARK_BATCH} a turn, a fresh process per measurement, ${ROUNDS} interleaved round(s)`);
  const cells: Record<string, number[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    // Alternating the order spreads a drift of the machine over both settings.
    const settings: Setting[] = round % 2 === 0 ? ['default', 'server'] : ['server', 'default'];
    for (const setting of settings) {
      for (const backlog of [0, BACKLOG]) (cells[`${setting}/${backlog}`] ??= []).push(measure(setting, backlog));
    }
  }
  const cell = (setting: Setting, backlog: number): number => median(cells[`${setting}/${backlog}`] ?? []);
  for (const [setting, what] of [['default', "V8's default (pretenuring on)"], ['server', 'the standalone server\'s setting (pretenuring off)']] as const) {
    const empty = cell(setting, 0);
    const beside = cell(setting, BACKLOG);
    console.log(`${what}: ${beside.toFixed(2)} µs per request beside the backlog, ${empty.toFixed(2)} µs without (${(beside / empty).toFixed(2)}x; medians)`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
