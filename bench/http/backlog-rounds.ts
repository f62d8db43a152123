// The backlog's cost in interleaved rounds: each round two fresh servers of one kind, one holding never-matching
// requests open, the same load alternating between them; and the same for a bare Express app served the same
// way, the floor of that cost.
import type { ChildPrograms } from './build';
import { median, type LoadConfig, type LoadKind } from './common';
import { formatGc, gcNodeFlags, gcProbe, type GcSummary } from './gc-trace';
import type { Server } from './processes';
import { heldBy, park, poolRuns, runLoad, startExpress, startNetsync, waitingIn, type HttpOptions, type LoadRun, type ParkPlan } from './suite';

/** One backlog comparison: the rounds of the server without the backlog and of the one with it. */
export interface BacklogRounds {
  readonly name: string;
  readonly what: string;
  /** Round by round, in the order measured; each round on a fresh pair of servers (see sliceOrder). */
  readonly plain: readonly RoundResult[];
  readonly loaded: readonly RoundResult[];
  /** loaded / plain req/s of each round. */
  readonly ratios: readonly number[];
  /** The median of `ratios`. */
  readonly median?: number;
  /** How long parking the backlog took, median over the rounds. */
  readonly parkMs?: number;
  readonly check?: string;
  readonly skipped?: string;
}

/** One server's two slices of a round, pooled. */
export interface RoundResult extends LoadRun {
  /** With `--gc`: the server's young-generation collections and loop batches, one summary per slice. */
  readonly gc?: readonly GcSummary[];
}

/** The control: bare Express, answered at once, beside requests it merely holds open. */
export const CONTROL = 'Express control';
export const BACKLOG_IDENTICAL = 'backlog (identical)';
export const BACKLOG_DISTINCT = 'backlog (distinct)';
export const BACKLOG_OWN_FRIEND = 'backlog (own friend)';

interface Variant {
  readonly name: string;
  readonly what: string;
  readonly kind: LoadKind;
  readonly netsync: boolean;
  readonly actors: ParkPlan['actors'];
  readonly selectors: 'same' | 'distinct';
}

type Log = (line: string) => void;

/** Which comparisons to run, and how closely to watch them. */
export interface BacklogSelection {
  /** Only the comparisons whose name contains one of these. */
  readonly only?: readonly string[];
  /** Trace each round's garbage collection and loop batches (gc-trace.ts); costs the servers a little CPU. */
  readonly traceGc?: boolean;
}

function variants(waiters: number): Variant[] {
  return [
    { name: CONTROL, what: `bare Express 5 answering \`{ok:true}\` without an ETag (as netsync answers), served as the standalone server is (\`expressServerOptions\`), beside ${waiters} requests it holds open`, kind: 'baseline', netsync: false, actors: 'distinct', selectors: 'same' },
    { name: BACKLOG_IDENTICAL, what: `shared event beside ${waiters} parked identical waiters (\`selector=role=ghost\`)`, kind: 'shared', netsync: true, actors: 'same', selectors: 'same' },
    { name: BACKLOG_DISTINCT, what: `shared event beside ${waiters} parked distinct-actor waiters (\`selector=role=ghost\`)`, kind: 'shared', netsync: true, actors: 'distinct', selectors: 'same' },
    { name: BACKLOG_OWN_FRIEND, what: `shared event beside ${waiters} parked waiters, each with \`selector=actor=absent<i>\``, kind: 'shared', netsync: true, actors: 'distinct', selectors: 'distinct' },
  ];
}

/**
 * Which server each slice of round `r` loads (true: the one with the backlog). A round is four slices of half
 * the round's time, without, with, with, without (the next round the other way round): the machine's speed
 * drifts over tens of seconds here, and a drift that is even over a round then weighs on both servers alike.
 */
function sliceOrder(r: number): readonly boolean[] {
  return r % 2 === 0 ? [false, true, true, false] : [true, false, false, true];
}

/**
 * Every comparison in turn, `rounds` rounds each. A round takes two fresh servers, parks the backlog on one,
 * loads both (sliceOrder) and pools each server's two slices into its figure for the round. Fresh servers each
 * round: a Node process can run a few tens of percent slower than another for its whole life (BENCHMARKS.md),
 * so rounds on one pair would measure that pair rather than the backlog.
 */
export async function measureBacklogRounds(
  programs: ChildPrograms,
  options: HttpOptions,
  loadConfig: (kind: LoadKind, targets: readonly Server[]) => LoadConfig,
  rounds: number,
  log: Log,
  { only, traceGc = false }: BacklogSelection = {},
): Promise<BacklogRounds[]> {
  const out: BacklogRounds[] = [];
  for (const v of variants(options.waiters)) {
    if (only !== undefined && only.length > 0 && !only.some((o) => v.name.includes(o))) continue;
    const plainRuns: RoundResult[] = [];
    const loadedRuns: RoundResult[] = [];
    const parkMs: number[] = [];
    let failed: string | undefined;
    let skipped: string | undefined;
    for (let r = 0; r < rounds && skipped === undefined; r++) {
      const round = await measureRound(programs, options, loadConfig, v, r, traceGc);
      if ('skipped' in round) {
        skipped = round.skipped;
        log(`${v.name.padEnd(22)} skipped: ${skipped}`);
        break;
      }
      const { without, withIt } = round;
      plainRuns.push(without);
      loadedRuns.push(withIt);
      parkMs.push(round.parkMs);
      if (round.check !== undefined) failed ??= `round ${r + 1}: ${round.check}`;
      log(`${v.name.padEnd(22)} round ${r + 1}: ${without.result.rps.toFixed(0)} req/s without, ` +
        `${withIt.result.rps.toFixed(0)} with the backlog (${(withIt.result.rps / without.result.rps).toFixed(2)}×); server ` +
        `${without.serverCpuUsPerRequest.toFixed(0)} → ${withIt.serverCpuUsPerRequest.toFixed(0)} µs CPU/req`);
      for (const [what, run] of [['without', without], ['with', withIt]] as const) {
        for (const summary of run.gc ?? []) log(`${''.padEnd(22)}   ${what.padEnd(7)} ${formatGc(summary)}`);
      }
    }
    if (skipped !== undefined) {
      out.push({ name: v.name, what: v.what, plain: [], loaded: [], ratios: [], skipped });
      continue;
    }
    const ratios = plainRuns.map((p, i) => (loadedRuns[i] as RoundResult).result.rps / p.result.rps);
    const check = failed === undefined
      ? `ok: ${options.waiters}/${options.waiters} still held after each round's load, none answered, every socket open`
      : `FAILED in ${failed}`;
    const row: BacklogRounds = {
      name: v.name, what: v.what, plain: plainRuns, loaded: loadedRuns, ratios,
      median: ratios.length > 0 ? median(ratios) : undefined, parkMs: parkMs.length > 0 ? median(parkMs) : undefined, check,
    };
    out.push(row);
    log(`${v.name.padEnd(22)} median ${row.median?.toFixed(2)}× over ${rounds} rounds (${ratios.map((x) => x.toFixed(2)).join(', ')}); ${check}`);
  }
  return out;
}

/** One round: its two servers' pooled slices, how long parking took, and what went wrong with the backlog if anything. */
type Round = { without: RoundResult; withIt: RoundResult; parkMs: number; check?: string } | { skipped: string };

async function measureRound(
  programs: ChildPrograms,
  options: HttpOptions,
  loadConfig: (kind: LoadKind, targets: readonly Server[]) => LoadConfig,
  v: Variant,
  r: number,
  traceGc: boolean,
): Promise<Round> {
  const nodeFlags = traceGc ? gcNodeFlags(programs) : [];
  // The control is served as the standalone server is, so it differs from netsync by netsync alone.
  const startOne = (): Promise<Server> => (v.netsync
    ? startNetsync(options, [], nodeFlags)
    : startExpress(programs, ['mixed', 'prototyped'], 'Express control', nodeFlags));
  const [plain, loaded] = await Promise.all([startOne(), startOne()]);
  try {
    // The load's own event is the one the backlog waits in: arrivals meet the backlog, never match it.
    const event = `${loadConfig('shared', []).eventPrefix}shared`;
    const held = v.netsync ? () => waitingIn(loaded, event, 'ghost') : () => heldBy(loaded);
    const plan: ParkPlan = { count: options.waiters, event, actors: v.actors, selectors: v.selectors, eventPerWaiter: false, deadlineMs: options.parkDeadlineMs };
    const parked = await park(programs, loaded, plan, held).catch((err: unknown) => err as Error);
    if (parked instanceof Error) return { skipped: `parking failed: ${parked.message}` };
    try {
      // Parking warmed the other server's code up; this one gets a load of its own first, not counted.
      const warmup = loadConfig(v.kind, [plain]);
      await runLoad(programs, { ...warmup, durationMs: warmup.warmupMs }, [plain]);
      const slices: Record<'with' | 'without', LoadRun[]> = { with: [], without: [] };
      const gc: Record<'with' | 'without', GcSummary[]> = { with: [], without: [] };
      for (const withBacklog of sliceOrder(r)) {
        const server = withBacklog ? loaded : plain;
        const which = withBacklog ? 'with' : 'without';
        const probe = traceGc ? gcProbe(server) : undefined;
        const config = loadConfig(v.kind, [server]);
        slices[which].push(await runLoad(programs, { ...config, durationMs: Math.max(1, Math.round(config.durationMs / 2)) }, [server], probe));
        const summary = probe?.summary();
        if (summary !== undefined) gc[which].push(summary);
      }
      const still = await held();
      const status = await parked.status();
      const ok = still === options.waiters && status.answered === 0 && status.held === options.waiters;
      return {
        without: { ...poolRuns(slices.without), gc: gc.without },
        withIt: { ...poolRuns(slices.with), gc: gc.with },
        parkMs: parked.ms,
        ...(ok ? {} : { check: `${still}/${options.waiters} still held after the load; ${status.answered} answered, ${status.held} sockets open` }),
      };
    } finally {
      await parked.parker.stop();
    }
  } finally {
    await Promise.all([plain.child.stop(), loaded.child.stop()]);
  }
}

/** The median over the rounds of server CPU per request with / without the backlog (steadier than req/s). */
export function cpuRatio(row: BacklogRounds): number | undefined {
  if (row.plain.length === 0) return undefined;
  return median(row.plain.map((p, i) => (row.loaded[i] as RoundResult).serverCpuUsPerRequest / p.serverCpuUsPerRequest));
}

/** A ratio as the report prints it (`1.07×`), or a dash when it was not measured. */
export function ratioText(ratio: number | undefined): string {
  return ratio === undefined ? '–' : `${ratio.toFixed(2)}×`;
}

/** Console lines: netsync's backlog ratios next to the control's, so the floor is measured, not assumed. */
export function backlogSummary(rows: readonly BacklogRounds[]): string[] {
  const control = rows.find((r) => r.name === CONTROL)?.median;
  return rows.map((r) => {
    if (r.median === undefined) return `${r.name}: ${r.skipped ?? 'not measured'}`;
    const beside = r.name === CONTROL || control === undefined ? '' : ` (control ${control.toFixed(2)}×)`;
    return `${r.name}: with/without the backlog ${r.median.toFixed(2)}× req/s (median of ${r.ratios.length})${beside}; ` +
      `server CPU per request ${ratioText(cpuRatio(r))}`;
  });
}
