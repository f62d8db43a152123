// `npm run bench`: the HTTP scenarios against a bare Express endpoint, then the micro-benchmarks; writes BENCHMARKS.md.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderClusterSection, runClusterBench, writeClusterSection } from './cluster';
import { buildChildPrograms } from './http/build';
import { eventPrefix, type LoadConfig, type LoadKind } from './http/common';
import { MICRO_BENCHMARKS, runMicro, type MicroName, type MicroResult } from './http/micro';
import { killAll, killChildrenOnExit } from './http/processes';
import { profileServer } from './http/profile';
import { checkTargets, machine, renderMarkdown } from './http/report';
import { measureMetricsCost, metricsRatio } from './http/metrics-cost';
import { backlogSummary, measureBacklogRounds } from './http/backlog-rounds';
import { measureMemory, memorySummary } from './http/memory';
import { cliHasOption, formatRowLine, runHttp, type HttpOptions, type HttpReport } from './http/suite';

const USAGE = `usage: npm run bench -- [http|metrics|backlog|memory|selector|engine|pretenuring|instructions|redis|cluster|profile] [--quick] [--clients N] [--seconds S] [--rounds R] [--cli PATH]
  no part: everything (HTTP scenarios, micro-benchmarks, Redis Cluster), results written to BENCHMARKS.md
  http | selector | engine | pretenuring | instructions | redis: one part only (BENCHMARKS.md is left alone)
  instructions: the server's instructions per request under valgrind's callgrind, beside 10,000 parked waiters
                and without them (skipped when valgrind is missing, and with --quick)
  cluster: private pairs over three instances on a private three-master Redis Cluster against one Redis
           (rewrites only the Redis Cluster section of BENCHMARKS.md)
  metrics: only private pairs with --metrics against without (the HTTP part runs it too)
  memory: only the RSS of netsync and the hold-open Express floors with the parked waiters (the HTTP part runs it too)
  backlog: only the backlog's cost in interleaved rounds, beside the Express control (the HTTP part runs it too);
           each round on a fresh pair of servers, loaded in slices without, with, with, without;
           --only NAME: just the comparisons whose name contains NAME (control, identical, distinct, own friend)
           --gc: run the servers with --trace-gc-nvp and report each round's scavenges and requests per loop iteration
  profile: run the server with --cpu-prof under the private-pairs load and summarise the profile
           (--backlog: under the shared-event load beside 10,000 parked distinct-actor waiters)
  --quick: short runs; --clients: concurrent clients (64); --seconds: per scenario (6, quick 1)
  --waiters: parked waiters for backlog and memory (10000, quick 2000); --cli: the server to drive (dist/cli.js)
  --rounds: interleaved rounds of each backlog comparison (7, quick 1); --seconds is a round's load on each server`;

type Part = 'http' | 'metrics' | 'backlog' | 'memory' | MicroName | 'cluster' | 'profile';
const PARTS: readonly Part[] = ['http', 'metrics', 'backlog', 'memory', ...MICRO_BENCHMARKS, 'cluster', 'profile'];

interface Args {
  readonly part?: Part;
  readonly quick: boolean;
  readonly clients?: number;
  readonly seconds?: number;
  readonly cli?: string;
  readonly backlog: boolean;
  readonly gc: boolean;
  readonly waiters?: number;
  readonly rounds?: number;
  readonly only: string[];
}

function parseArgs(argv: readonly string[]): Args {
  let part: Part | undefined;
  let quick = false;
  let clients: number | undefined;
  let seconds: number | undefined;
  let cli: string | undefined;
  let backlog = false;
  let gc = false;
  let waiters: number | undefined;
  let rounds: number | undefined;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === '--quick') quick = true;
    else if (arg === '--clients') clients = Number(value());
    else if (arg === '--seconds') seconds = Number(value());
    else if (arg === '--cli') cli = path.resolve(value());
    else if (arg === '--backlog') backlog = true;
    else if (arg === '--gc') gc = true;
    else if (arg === '--waiters') waiters = Number(value());
    else if (arg === '--rounds') rounds = Number(value());
    else if (arg === '--only') only.push(value());
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if ((PARTS as readonly string[]).includes(arg) && part === undefined) part = arg as Part;
    else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { part, quick, clients, seconds, cli, backlog, gc, waiters, rounds, only };
}

async function main(): Promise<void> {
  killChildrenOnExit();
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const log = (line: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const root = path.resolve(__dirname, '..');
  const options: HttpOptions = {
    quick: args.quick,
    clients: args.clients ?? 64,
    warmupMs: args.quick ? 300 : 1500,
    durationMs: (args.seconds ?? (args.quick ? 1 : 6)) * 1000,
    maxRequests: args.quick ? 100000 : 1000000,
    // A quick run parks fewer waiters: parking dominates its time, and it is a smoke test, not a figure to quote.
    waiters: args.waiters ?? (args.quick ? 2000 : 10000),
    parkDeadlineMs: 90000,
    cli: args.cli ?? path.join(root, 'dist', 'cli.js'),
    redisUrl: process.env.NETSYNC_BENCH_REDIS ?? 'redis://127.0.0.1:6379',
    // Single rounds of one comparison swing by ±20% on a shared 2-CPU machine; the median of 7 holds steadier.
    backlogRounds: args.rounds ?? (args.quick ? 1 : 7),
  };
  const started = new Date();
  log(`netsync benchmark${args.quick ? ' (quick)' : ''} — ${machine()}`);
  const programs = await buildChildPrograms();

  if (args.part === 'profile') {
    await profileServer(programs, options.cli, options.durationMs, options.clients, log, args.backlog ? options.waiters : 0);
    return;
  }
  if (args.part === 'metrics') {
    log(`── metrics cost: ${options.clients} keep-alive clients, ${options.durationMs / 1000} s per round`);
    const loadConfig = metricsLoadConfig(options);
    const rows = await measureMetricsCost(programs, options, (kind, targets) => loadConfig(kind, targets.map((t) => t.url)), await cliHasOption(options.cli, '--metrics'));
    for (const row of rows) log(formatRowLine(row, undefined));
    const ratio = metricsRatio(rows);
    log(`private pairs with --metrics / without: ${ratio === undefined ? 'not measured' : `${ratio.toFixed(2)}×`} (target ≥ 0.95×); ${rows.find((r) => r.check)?.check ?? ''}`);
    return;
  }
  if (args.part === 'backlog') {
    log(`── backlog cost: ${options.clients} keep-alive clients, ${options.durationMs / 1000} s per round (slices without, with, with, without), ${options.backlogRounds} interleaved rounds`);
    const loadConfig = metricsLoadConfig(options);
    const rows = await measureBacklogRounds(programs, options, (kind, targets) => loadConfig(kind, targets.map((t) => t.url)), options.backlogRounds, log, { only: args.only, traceGc: args.gc });
    for (const line of backlogSummary(rows)) log(line);
    return;
  }
  if (args.part === 'memory') {
    log(`── memory: ${options.waiters} parked waiters per process`);
    const { rows, notes } = await measureMemory(programs, options, eventPrefix(), log);
    for (const line of memorySummary(rows)) log(line);
    for (const n of notes) log(`note: ${n}`);
    return;
  }
  let http: HttpReport | undefined;
  if (args.part === undefined || args.part === 'http') {
    log(`── HTTP scenarios: ${options.clients} keep-alive clients, ${options.durationMs / 1000} s each`);
    http = await runHttp(programs, options, log);
    for (const t of checkTargets(http)) log(`target ${t.met === undefined ? '–' : t.met ? 'met' : 'NOT met'}: ${t.target} — ${t.measured}`);
    for (const n of http.notes) log(`note: ${n}`);
  }
  const micro: MicroResult[] = [];
  for (const name of MICRO_BENCHMARKS) {
    // A server under callgrind runs at a fiftieth of its speed: seven of them take longer than the other parts.
    const limitMs = args.quick ? 30000 : name === 'instructions' ? 1_500_000 : 600000;
    if (args.part === undefined || args.part === name) micro.push(await runMicro(name, args.quick, limitMs, log));
  }
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  let cluster: string | undefined;
  if (args.part === undefined || args.part === 'cluster') {
    log(`── Redis Cluster: private pairs over three instances, ${options.clients} keep-alive clients, ${options.durationMs / 1000} s per store`);
    cluster = renderClusterSection(await runClusterBench(programs, options, log), command, started);
  }
  if (args.part === 'cluster' && cluster !== undefined) {
    writeClusterSection(path.join(root, 'BENCHMARKS.md'), cluster);
    log('the Redis Cluster section of BENCHMARKS.md rewritten');
  }
  if (args.part === undefined) {
    const md = renderMarkdown({ command, date: started, quick: args.quick, clients: options.clients, durationMs: options.durationMs, http, micro });
    const file = path.join(root, 'BENCHMARKS.md');
    const report = cluster === undefined ? md : `${md.trimEnd()}

${cluster}
`;
    writeFileSync(file, report + handWrittenSections(file));
    log(`results written to BENCHMARKS.md (${((Date.now() - started.getTime()) / 1000).toFixed(1)} s)`);
  }
}

/** The load of the metrics part, as the HTTP part configures its scenarios. */
function metricsLoadConfig(options: HttpOptions): (kind: LoadKind, targets: readonly string[]) => LoadConfig {
  const prefix = eventPrefix();
  return (kind, targets) => ({
    kind, targets, clients: options.clients, eventPrefix: prefix, warmupMs: options.warmupMs, durationMs: options.durationMs,
    maxRequests: options.maxRequests, graceMs: 300,
  });
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  })
  .finally(killAll);

/** Marks where BENCHMARKS.md's hand-written sections start: figures of one-off runs that a full run must not drop. */
const HAND_WRITTEN = '<!-- Sections below this line are written by hand; a full `npm run bench` rewrites the report above and keeps them. -->';

/** The marker and everything after it in the existing file, to append to a new report ('' if none). */
function handWrittenSections(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return '';
  }
  const at = text.indexOf(HAND_WRITTEN);
  return at < 0 ? '' : `\n${text.slice(at)}`;
}
