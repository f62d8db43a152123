// `npm run bench -- backlog --gc`: the servers run with `--trace-gc-nvp` and loop-batches.ts preloaded, and each
// round's measured phase is summarised: what the young-generation collector did, and how many requests each
// event-loop iteration dispatched. It shows why a server's CPU per request depends on how saturated it is.
import type { ChildPrograms } from './build';
import { LOOP_BATCHES_MARK } from './common';
import type { Server } from './processes';

/** The young-generation collections and loop batches of one server over one measured phase. */
export interface GcSummary {
  readonly requests: number;
  readonly scavenges: number;
  /** Means per scavenge: main-thread pause (ms), bytes that survived it, bytes it promoted to the old generation. */
  readonly pauseMs: number;
  readonly survivedBytes: number;
  readonly promotedBytes: number;
  /** Scavenging time per request, main thread and helper threads together (µs). */
  readonly scavengeUsPerRequest: number;
  readonly markCompacts: number;
  /** Requests per loop iteration that dispatched any, and the same weighted by request (the batch a request was in). */
  readonly batch: number;
  readonly batchOfRequest: number;
}

/** Starts and ends a measured phase on the servers of a load (see runLoad). */
export interface PhaseProbe {
  start(): Promise<void>;
  end(): Promise<void>;
}

interface LoopTotals {
  readonly iterations: number;
  readonly requests: number;
  readonly squares: number;
}

/** Node flags of a traced server. */
export function gcNodeFlags(programs: ChildPrograms): string[] {
  return ['--trace-gc-nvp', '--require', programs.loopBatches];
}

/** A probe of one traced server; `summary()` reads the phase between its last start() and end(). */
export function gcProbe(server: Server): PhaseProbe & { summary(): GcSummary | undefined } {
  let from: { at: number; totals: LoopTotals } | undefined;
  let last: GcSummary | undefined;
  const mark = async (): Promise<{ at: number; totals: LoopTotals }> => {
    server.child.process.kill('SIGUSR2');
    const line = await server.child.nextLine((l) => l.startsWith(LOOP_BATCHES_MARK), 5000, 'loop-batches totals');
    return { at: server.child.history().length, totals: JSON.parse(line.slice(LOOP_BATCHES_MARK.length)) as LoopTotals };
  };
  return {
    async start() {
      from = await mark();
    },
    async end() {
      if (from === undefined) return;
      const to = await mark();
      last = summariseGc(server.child.history().slice(from.at, to.at), {
        iterations: to.totals.iterations - from.totals.iterations,
        requests: to.totals.requests - from.totals.requests,
        squares: to.totals.squares - from.totals.squares,
      });
      from = undefined;
    },
    summary: () => last,
  };
}

/** The `--trace-gc-nvp` lines of a phase (`gc=s` scavenges, `gc=mc` mark-compacts) with the loop totals of it. */
export function summariseGc(lines: readonly string[], loop: LoopTotals): GcSummary {
  let scavenges = 0;
  let pause = 0;
  let background = 0;
  let survived = 0;
  let promoted = 0;
  let markCompacts = 0;
  for (const line of lines) {
    if (line.includes(' gc=mc ')) markCompacts++;
    if (!line.includes(' gc=s ')) continue;
    const field = (name: string): number => Number(new RegExp(` ${name.replace(/\./g, '\\.')}=([0-9.]+)`).exec(line)?.[1] ?? 0);
    scavenges++;
    pause += field('pause');
    background += field('background.scavenge.parallel');
    survived += field('new_space_survived');
    promoted += field('promoted');
  }
  const per = (total: number): number => (scavenges > 0 ? total / scavenges : 0);
  return {
    requests: loop.requests,
    scavenges,
    pauseMs: per(pause),
    survivedBytes: per(survived),
    promotedBytes: per(promoted),
    scavengeUsPerRequest: loop.requests > 0 ? ((pause + background) * 1000) / loop.requests : 0,
    markCompacts,
    batch: loop.iterations > 0 ? loop.requests / loop.iterations : 0,
    batchOfRequest: loop.requests > 0 ? loop.squares / loop.requests : 0,
  };
}

/** One line of a traced phase for the console. */
export function formatGc(gc: GcSummary): string {
  return `${gc.batch.toFixed(1)} req per loop iteration (a request's batch ${gc.batchOfRequest.toFixed(0)}); ` +
    `${gc.scavenges} scavenges, ${gc.pauseMs.toFixed(2)} ms each, ${(gc.survivedBytes / 1024).toFixed(0)} KB survived, ` +
    `${(gc.promotedBytes / 1024).toFixed(0)} KB promoted; scavenging ${gc.scavengeUsPerRequest.toFixed(1)} µs/req; ` +
    `${gc.markCompacts} mark-compact${gc.markCompacts === 1 ? '' : 's'}`;
}
