// The HTTP scenarios: baseline Express, netsync pairs/shared/backlog/groups/Redis, and memory with 10,000 waiters.
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { eventPrefix, MEASURE_MARK, type LoadConfig, type LoadKind, type LoadResult } from './common';
import type { ChildPrograms } from './build';
import type { PhaseProbe } from './gc-trace';
import { measureBacklogRounds, type BacklogRounds } from './backlog-rounds';
import { measureMemory, type MemoryRow } from './memory';
import { measureMetricsCost } from './metrics-cost';
import { cpuMs, listening, sleep, start, type Child, type Server } from './processes';

export type { Server } from './processes';

/** How hard and how long the HTTP scenarios push. */
export interface HttpOptions {
  readonly quick: boolean;
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly maxRequests: number;
  /** Never-matching waiters for the backlog and memory scenarios. */
  readonly waiters: number;
  /** How long the server may take to hold the distinct-actor backlog before that scenario is skipped. */
  readonly parkDeadlineMs: number;
  /** The standalone server to drive (`dist/cli.js`). */
  readonly cli: string;
  readonly redisUrl: string;
  /** Interleaved rounds of each backlog comparison (bench/http/backlog-rounds.ts). */
  readonly backlogRounds: number;
}

/** One throughput scenario's outcome, or why it did not run. */
export interface ScenarioRow {
  readonly name: string;
  readonly what: string;
  readonly result?: LoadResult;
  /** Server CPU per completed request, microseconds (all server processes of the scenario). */
  readonly serverCpuUsPerRequest?: number;
  readonly skipped?: string;
  /** Outcome of the scenario's own check (the backlog's waiters still waiting). */
  readonly check?: string;
}

/** Everything the HTTP part measured. */
export interface HttpReport {
  readonly rows: ScenarioRow[];
  readonly memory: MemoryRow[];
  readonly memorySkipped?: string;
  /** The backlog comparisons in interleaved rounds, the Express control first. */
  readonly backlog: readonly BacklogRounds[];
  readonly notes: string[];
}

type Log = (line: string) => void;

const HOST = '127.0.0.1';

/**
 * The reference Express app (bench/http/baseline-server.ts) in one of its modes: `hold`, `mixed`, and
 * `prototyped` (served as the standalone server is); none, the bare baseline.
 */
export function startExpress(programs: ChildPrograms, modes: readonly string[], label: string, nodeFlags: readonly string[] = []): Promise<Server> {
  return listening(start(process.execPath, [...nodeFlags, programs.baselineServer, ...modes]), label);
}

export function startNetsync(options: HttpOptions, extra: readonly string[] = [], nodeFlags: readonly string[] = []): Promise<Server> {
  const child = start(process.execPath, [...nodeFlags, options.cli, `${HOST}:0`, '--log', 'off', ...extra]);
  return listening(child, `netsync server (${options.cli})`);
}

/**
 * Run one load generator against `targets`, sampling the servers' CPU over the measured phase; `probe` is told
 * just after the first sample that the phase started, and after the last that it ended.
 */
export async function runLoad(
  programs: ChildPrograms,
  config: LoadConfig,
  servers: readonly Server[],
  probe?: PhaseProbe,
): Promise<LoadRun> {
  const gen = start(process.execPath, [programs.loadgen, JSON.stringify(config)]);
  const budget = config.warmupMs + config.durationMs + config.graceMs + 30000;
  await gen.nextLine((l) => l === MEASURE_MARK, budget, `load generator (${config.kind})`);
  const cpu0 = servers.reduce((sum, s) => sum + cpuMs(s.child.pid), 0);
  await probe?.start();
  const line = await gen.nextLine((l) => l.startsWith('{'), budget, `load generator (${config.kind})`);
  const cpu1 = servers.reduce((sum, s) => sum + cpuMs(s.child.pid), 0);
  await probe?.end();
  await gen.stop();
  const result = JSON.parse(line) as LoadResult;
  return { result, serverCpuUsPerRequest: result.completed > 0 ? ((cpu1 - cpu0) * 1000) / result.completed : NaN };
}

/** One load generator's outcome and the servers' CPU per completed request over its measured phase. */
export interface LoadRun {
  readonly result: LoadResult;
  readonly serverCpuUsPerRequest: number;
}

/** Several runs on one server as one: totals over the total time, latencies averaged, CPU weighted by requests. */
export function poolRuns(runs: readonly LoadRun[]): LoadRun {
  const sum = (pick: (r: LoadResult) => number): number => runs.reduce((total, { result }) => total + pick(result), 0);
  const completed = sum((r) => r.completed);
  const elapsedMs = sum((r) => r.elapsedMs);
  const result: LoadResult = {
    completed,
    errors: sum((r) => r.errors),
    abandoned: sum((r) => r.abandoned),
    elapsedMs,
    rps: elapsedMs > 0 ? (completed * 1000) / elapsedMs : 0,
    p50Ms: sum((r) => r.p50Ms) / runs.length,
    p99Ms: sum((r) => r.p99Ms) / runs.length,
    loadgenCpuMs: sum((r) => r.loadgenCpuMs),
    errorSamples: runs.flatMap(({ result: r }) => r.errorSamples).slice(0, 3),
  };
  const cpuUs = runs.reduce((total, { result: r, serverCpuUsPerRequest }) => total + serverCpuUsPerRequest * r.completed, 0);
  return { result, serverCpuUsPerRequest: completed > 0 ? cpuUs / completed : NaN };
}

/** How many requests /stats lists whose event starts with `eventPrefix` and actor with `actorPrefix`. */
export async function waitingIn(server: Server, eventPrefix: string, actorPrefix: string): Promise<number> {
  const res = await fetch(`${server.url}/stats`);
  if (!res.ok) throw new Error(`/stats answered ${res.status}`);
  const tree = (await res.json()) as Record<string, Record<string, Record<string, unknown>>>;
  let count = 0;
  for (const [event, actors] of Object.entries(tree)) {
    if (!event.startsWith(eventPrefix)) continue;
    for (const [actor, ids] of Object.entries(actors)) {
      if (actor.startsWith(actorPrefix)) count += Object.keys(ids).length;
    }
  }
  return count;
}

/** How many requests a hold-open or mixed Express app holds (its `/count`). */
export async function heldBy(server: Server): Promise<number> {
  const res = await fetch(`${server.url}/count`);
  return ((await res.json()) as { held: number }).held;
}

/** Poll `probe` until it returns `want`; resolves with the last value seen. */
export async function until(probe: () => Promise<number>, want: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = await probe();
  while (seen !== want && Date.now() < deadline) {
    await sleep(250);
    seen = await probe();
  }
  return seen;
}

export interface Parked {
  readonly parker: Child;
  readonly ms: number;
  status(): Promise<{ answered: number; closed: number; failed: number; held: number }>;
}

/** Which waiters to park and how long the server may take to hold them all. */
export interface ParkPlan {
  readonly count: number;
  readonly event: string;
  readonly actors: 'distinct' | 'same';
  readonly eventPerWaiter: boolean;
  readonly selectors?: 'same' | 'distinct';
  readonly deadlineMs: number;
  /** false: resolve once every request is written, without asking the server (the caller checks later). */
  readonly confirm?: boolean;
}

/**
 * Park never-matching waiters on `server` from a dedicated process; resolves once the server holds them
 * all, rejects (and stops the parker) if it does not within the plan's deadline.
 */
export async function park(programs: ChildPrograms, server: Server, plan: ParkPlan, held: () => Promise<number>): Promise<Parked> {
  const t0 = Date.now();
  const { count, event, actors, eventPerWaiter, selectors } = plan;
  const parkerConfig = { port: server.port, count, event, actors, eventPerWaiter, selectors };
  const parker = start(process.execPath, [programs.parker, JSON.stringify(parkerConfig)]);
  try {
    await parker.nextLine((l) => l.startsWith('{"parked"'), plan.deadlineMs, 'parker');
    const seen = plan.confirm === false ? count : await until(held, count, Math.max(1000, plan.deadlineMs - (Date.now() - t0)));
    if (seen !== count) throw new Error(`only ${seen} of ${count} waiters were pending after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  } catch (err) {
    await parker.stop();
    throw err;
  }
  const status = async (): Promise<{ answered: number; closed: number; failed: number; held: number }> => {
    parker.process.stdin?.write('status\n');
    return JSON.parse(await parker.nextLine((l) => l.startsWith('{"answered"'), 10000, 'parker status')) as {
      answered: number;
      closed: number;
      failed: number;
      held: number;
    };
  };
  return { parker, ms: Date.now() - t0, status };
}

/** True when a Redis server answers PING at `url`. */
function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/** Whether the CLI's --help mentions `option` (so a CLI without it is skipped, not failed). */
export async function cliHasOption(cli: string, option: string): Promise<boolean> {
  const child = start(process.execPath, [cli, '--help']);
  const out = await child
    .nextLine((l) => l.includes(option), 5000, 'netsync --help')
    .then(() => true)
    .catch(() => false);
  await child.stop();
  return out;
}

/** Run every HTTP scenario in order, printing each row as it completes. */
export async function runHttp(programs: ChildPrograms, options: HttpOptions, log: Log): Promise<HttpReport> {
  const rows: ScenarioRow[] = [];
  const notes: string[] = [];
  const prefix = eventPrefix();
  const loadConfig = (kind: LoadKind, targets: readonly Server[]): LoadConfig => ({
    kind,
    targets: targets.map((s) => s.url),
    clients: options.clients,
    eventPrefix: prefix,
    warmupMs: options.warmupMs,
    durationMs: options.durationMs,
    maxRequests: options.maxRequests,
    graceMs: 300,
  });
  const measure = async (name: string, what: string, kind: LoadKind, servers: readonly Server[], check?: () => Promise<string>): Promise<void> => {
    const { result, serverCpuUsPerRequest } = await runLoad(programs, loadConfig(kind, servers), servers);
    const row: ScenarioRow = { name, what, result, serverCpuUsPerRequest, ...(check ? { check: await check() } : {}) };
    rows.push(row);
    log(formatRowLine(row, rows[0]?.result));
  };
  const skip = (name: string, what: string, why: string): void => {
    rows.push({ name, what, skipped: why });
    log(`${name.padEnd(22)} skipped: ${why}`);
  };

  // The baseline runs first and again after the netsync scenarios: on a shared machine the pair shows the drift.
  const baseline = await startExpress(programs, [], 'baseline Express app');
  await measure('baseline', 'bare Express 5, `res.json({ok:true})`', 'baseline', [baseline]);

  const cliPresent = existsSync(options.cli);
  let server: Server | undefined;
  let cliError = cliPresent ? '' : `${path.relative(process.cwd(), options.cli)} not built`;
  if (cliPresent) {
    server = await startNetsync(options).catch((err: unknown) => {
      cliError = err instanceof Error ? err.message : String(err);
      return undefined;
    });
  }
  const what = {
    pairs: 'clients 2k and 2k+1 meet in event k, loop',
    shared: 'all clients in one event, distinct actors, default selector',
    groups: 'groups of three, labels + set-based selectors (`kind in (player,maker),tier!=bronze`)',
    redis: 'private pairs across two instances on one Redis (2k on A, 2k+1 on B)',
    lobby: 'lobbies of 2 to 4 (`mates=1..3&linger=200ms`), four clients per event, loop: a window opens and a full group closes it',
    widen: 'private pairs where client 2k also sends `widen=100ms:` (a stage timer per request, cleared by the match)',
  };
  if (!server) {
    for (const [name, w] of [
      ['private pairs', what.pairs],
      ['lobby 2..4', what.lobby],
      ['pairs, half widen', what.widen],
      ['shared event', what.shared],
      ['groups of three', what.groups],
    ] as const) {
      skip(name, w, `netsync server unavailable: ${cliError}`);
    }
  } else {
    const s = server;
    await measure('private pairs', what.pairs, 'pairs', [s]);
    // Ranges and widening at the private-pairs load, beside it in the same run.
    await measure('lobby 2..4', what.lobby, 'lobby', [s]);
    await measure('pairs, half widen', what.widen, 'widen', [s]);
    // Beside it, on two fresh servers: the cost of --metrics (its own rows, and a target on their ratio).
    for (const row of await measureMetricsCost(programs, options, loadConfig, await cliHasOption(options.cli, '--metrics'))) {
      rows.push(row);
      log(formatRowLine(row, rows[0]?.result));
      if (row.check) log(`  check: ${row.check}`);
    }
    await measure('shared event', what.shared, 'shared', [s]);
    await measure('groups of three', what.groups, 'groups', [s]);
    await s.child.stop();
  }

  await measure('baseline (again)', 'the same Express app, measured again after the scenarios above', 'baseline', [baseline]);
  await baseline.child.stop();

  // The backlog's cost: each comparison on two fresh servers in interleaved rounds, beside the Express control.
  const backlog = server
    ? await measureBacklogRounds(programs, options, loadConfig, options.backlogRounds, log)
    : [];
  for (const b of backlog) if (b.parkMs !== undefined) notes.push(`${b.name}: parking ${options.waiters} waiters took ${b.parkMs} ms (median over the rounds).`);

  // Redis: two instances, one Redis; pairs split across them so every match crosses instances.
  const redisUp = await redisAnswers(options.redisUrl);
  if (!server) skip('Redis pairs', what.redis, 'netsync server unavailable');
  else if (!redisUp) skip('Redis pairs', what.redis, `no Redis answers at ${options.redisUrl}`);
  else if (!(await cliHasOption(options.cli, '--redis'))) skip('Redis pairs', what.redis, 'the CLI has no --redis option');
  else {
    const a = await startNetsync(options, ['--redis', options.redisUrl]);
    const b = await startNetsync(options, ['--redis', options.redisUrl]);
    await measure('Redis pairs', what.redis, 'pairs', [a, b]);
    await Promise.all([a.child.stop(), b.child.stop()]);
  }

  // Memory: fresh processes, idle RSS, then RSS while the waiters are held open.
  let memory: MemoryRow[] = [];
  let memorySkipped: string | undefined;
  if (server) {
    const measured = await measureMemory(programs, options, prefix, log);
    memory = measured.rows;
    notes.push(...measured.notes);
  } else {
    memorySkipped = `netsync server unavailable: ${cliError}`;
    log(`memory skipped: ${memorySkipped}`);
  }

  for (const row of rows) {
    const r = row.result;
    if (r && r.loadgenCpuMs > 0.85 * r.elapsedMs) {
      notes.push(`${row.name}: the load generator used ${Math.round((100 * r.loadgenCpuMs) / r.elapsedMs)}% of a core; it may have been the bottleneck.`);
    }
    if (r && r.errors > 0) notes.push(`${row.name}: ${r.errors} errors, e.g. ${r.errorSamples.join(' | ')}`);
  }
  return { rows, memory, backlog, notes, ...(memorySkipped ? { memorySkipped } : {}) };
}

/** The figures ratios are taken to: the mean of the baseline runs of the report. */
export function baselineOf(rows: readonly ScenarioRow[]): LoadResult | undefined {
  const runs = rows.filter((r) => r.name.startsWith('baseline') && r.result).map((r) => r.result as LoadResult);
  const first = runs[0];
  if (first === undefined) return undefined;
  const mean = (pick: (r: LoadResult) => number): number => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  return { ...first, rps: mean((r) => r.rps), p50Ms: mean((r) => r.p50Ms), p99Ms: mean((r) => r.p99Ms) };
}

/** Megabytes with one decimal. */
export function mb(bytes: number): string {
  return (bytes / 1048576).toFixed(1);
}

/** One console line for a finished scenario, with its ratios to the baseline. */
export function formatRowLine(row: ScenarioRow, base: LoadResult | undefined): string {
  const r = row.result;
  if (!r) return `${row.name.padEnd(22)} skipped: ${row.skipped ?? ''}`;
  const ratio = (v: number, b: number | undefined): string => (b ? ` (${(v / b).toFixed(2)}×)` : '');
  return (
    `${row.name.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} req/s${ratio(r.rps, base?.rps)}` +
    `  p50 ${r.p50Ms.toFixed(2)} ms${ratio(r.p50Ms, base?.p50Ms)}  p99 ${r.p99Ms.toFixed(2)} ms${ratio(r.p99Ms, base?.p99Ms)}` +
    `  errors ${r.errors}  (${r.completed} in ${(r.elapsedMs / 1000).toFixed(1)} s, server ${(row.serverCpuUsPerRequest ?? NaN).toFixed(0)} µs CPU/req)`
  );
}
