// Writes BENCHMARKS.md: the machine, the command, the figures with their ratios to the baseline, the targets.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { median, type LoadResult } from './common';
import type { MicroResult } from './micro';
import { CONTROL, cpuRatio, ratioText, type BacklogRounds, type RoundResult } from './backlog-rounds';
import { metricsRatio, PAIRS_METERED, PAIRS_PLAIN } from './metrics-cost';
import { againstFloor, MEMORY_FLOOR, MEMORY_OWN_EVENTS, MEMORY_SHARED_EVENT } from './memory';
import { baselineOf, mb, type HttpReport, type ScenarioRow } from './suite';

/** One stated target, its measured value and whether it is met (never asserted). */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

function cpuModel(): string {
  const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
  return match?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

function nproc(): string {
  try {
    return execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    return String(os.availableParallelism());
  }
}

/** The machine, as BENCHMARKS.md and the console describe it. */
export function machine(): string {
  return `${nproc()} CPUs (nproc), ${cpuModel()}, ${(os.totalmem() / 1073741824).toFixed(1)} GiB RAM, ` +
    `Node ${process.version}, ${os.type()} ${os.release()}`;
}

const find = (report: HttpReport, name: string): LoadResult | undefined => report.rows.find((r) => r.name === name)?.result;

/** The targets of the benchmark (memory in both shapes), checked against one run's figures. */
export function checkTargets(report: HttpReport): TargetCheck[] {
  const base = baselineOf(report.rows);
  const pairs = find(report, 'private pairs');
  const own = report.memory.find((m) => m.name === MEMORY_OWN_EVENTS);
  const one = report.memory.find((m) => m.name === MEMORY_SHARED_EVENT);
  const waiters = (own ?? one)?.waiters.toLocaleString('en-US') ?? '10,000';
  const floor = report.memory.find((m) => m.name === MEMORY_FLOOR);
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b ? a / b : undefined);
  const check = (target: string, value: number | undefined, limit: number, atLeast: boolean, extra = ''): TargetCheck => ({
    target,
    measured: value === undefined ? 'not measured' : `${value.toFixed(2)}×${extra}`,
    met: value === undefined ? undefined : atLeast ? value >= limit : value <= limit,
  });
  return [
    check('private pairs ≥ 0.8× baseline req/s', ratio(pairs?.rps, base?.rps), 0.8, true),
    ...backlogTargets(report.backlog),
    check(`RSS with ${waiters} waiters ≤ 1.15× hold-open Express served as netsync is (one shared event: the target)`, ratio(one?.loadedRss, floor?.loadedRss), 1.15, false),
    check(`RSS with ${waiters} waiters ≤ 1.15× hold-open Express served as netsync is (one event per waiter)`, ratio(own?.loadedRss, floor?.loadedRss), 1.15, false),
    check('private-pair p99 ≤ 1.5× baseline p99', ratio(pairs?.p99Ms, base?.p99Ms), 1.5, false),
    check('private pairs with `--metrics` ≥ 0.95× without (same run)', metricsRatio(report.rows), 0.95, true),
  ];
}

/**
 * Backlog ≥ 0.95× the shared event without it (median of the interleaved rounds), for each backlog shape,
 * with the Express control's ratio beside it: the floor of what holding requests open costs at all.
 */
function backlogTargets(rows: readonly BacklogRounds[]): TargetCheck[] {
  const control = rows.find((r) => r.name === CONTROL);
  const beside = control?.median === undefined ? '' : ` (Express control ${control.median.toFixed(2)}×)`;
  const controlCpu = control === undefined ? '' : ` (control ${ratioText(cpuRatio(control))})`;
  return rows.filter((r) => r.name !== CONTROL).map((r) => ({
    target: `${r.name}: shared event beside the backlog ≥ 0.95× without it (median of ${r.ratios.length || 'the'} interleaved rounds)`,
    measured: r.median === undefined
      ? `not measured${r.skipped ? `: ${r.skipped}` : ''}`
      : `${r.median.toFixed(2)}×${beside}; server CPU per request ${ratioText(cpuRatio(r))}${controlCpu}`,
    met: r.median === undefined ? undefined : r.median >= 0.95,
  }));
}

/** The section on the backlog's cost: every round of every comparison, the control first. */
function backlogSection(rows: readonly BacklogRounds[]): string[] {
  if (rows.length === 0) return [];
  const out = [
    '## Backlog', '',
    'Each round runs on two fresh server processes, one holding never-matching requests open. It loads them in',
    'four slices of half its seconds: without, with, with, without (the next round with, without, without, with),',
    'and pools each server\'s two slices. Ratios are with / without, per round; the median is the figure the targets',
    'read. Server CPU is per completed request, without → with (medians over the rounds).', '',
    '| comparison | what | rounds (req/s without → with, ratio) | median | server µs CPU/req | check |',
    '| --- | --- | --- | ---: | ---: | --- |',
  ];
  const cpu = (runs: readonly RoundResult[]): string => {
    const values = runs.map((r) => r.serverCpuUsPerRequest).filter(Number.isFinite);
    return values.length === 0 ? '–' : median(values).toFixed(0);
  };
  for (const r of rows) {
    if (r.median === undefined) {
      out.push(`| ${r.name} | ${r.what} | skipped: ${r.skipped ?? ''} | – | – | – |`);
      continue;
    }
    const rounds = r.plain.map((p, i) => {
      const l = r.loaded[i] as RoundResult;
      return `${p.result.rps.toFixed(0)} → ${l.result.rps.toFixed(0)} (${(r.ratios[i] as number).toFixed(2)}×)`;
    });
    out.push(`| ${r.name} | ${r.what} | ${rounds.join('; ')} | ${r.median.toFixed(2)}× | ${cpu(r.plain)} → ${cpu(r.loaded)} | ${r.check ?? ''} |`);
  }
  out.push('');
  return out;
}

/** The short section on what `--metrics` costs, from the two rows of that comparison. */
function metricsSection(rows: readonly ScenarioRow[]): string[] {
  const plain = rows.find((r) => r.name === PAIRS_PLAIN);
  const metered = rows.find((r) => r.name === PAIRS_METERED);
  const ratio = metricsRatio(rows);
  if (!plain?.result || !metered?.result || ratio === undefined) return metered?.skipped ? ['## Metrics cost', '', `Skipped: ${metered.skipped}`, ''] : [];
  const cpu = (r: ScenarioRow): string => (Number.isFinite(r.serverCpuUsPerRequest ?? NaN) ? `${(r.serverCpuUsPerRequest as number).toFixed(0)} µs` : '–');
  return [
    '## Metrics cost', '',
    'Private pairs on a server started with `--metrics` (prom-client counting every request; nothing scrapes during',
    'the load) and on one without, in rounds off, on, on, off of the same run:', '',
    `- ${metered.result.rps.toFixed(0)} req/s with metrics, ${plain.result.rps.toFixed(0)} without: **${ratio.toFixed(2)}×** (target ≥ 0.95×)`,
    `- server CPU per request: ${cpu(metered)} with, ${cpu(plain)} without; p99 ${metered.result.p99Ms.toFixed(2)} ms with, ${plain.result.p99Ms.toFixed(2)} ms without`,
    `- ${metered.check ?? ''}`, '',
  ];
}

function cell(value: number, base: number | undefined, digits: number): string {
  const v = Number.isFinite(value) ? value.toFixed(digits) : '–';
  return base && Number.isFinite(value) ? `${v} (${(value / base).toFixed(2)}×)` : v;
}

function row(r: ScenarioRow, base: LoadResult | undefined): string {
  if (!r.result) return `| ${r.name} | ${r.what} | skipped: ${r.skipped ?? ''} | | | | |`;
  const x = r.result;
  return `| ${r.name} | ${r.what} | ${cell(x.rps, base?.rps, 0)} | ${cell(x.p50Ms, base?.p50Ms, 2)} | ` +
    `${cell(x.p99Ms, base?.p99Ms, 2)} | ${x.errors} | ${Number.isFinite(r.serverCpuUsPerRequest ?? NaN) ? (r.serverCpuUsPerRequest as number).toFixed(0) : '–'} |`;
}

/** The markdown of BENCHMARKS.md for one run. */
export function renderMarkdown(input: {
  command: string;
  date: Date;
  quick: boolean;
  clients: number;
  durationMs: number;
  http?: HttpReport;
  micro: readonly MicroResult[];
}): string {
  const out: string[] = [];
  const push = (...lines: string[]): void => void out.push(...lines);
  push('# Benchmarks', '');
  push('Throughput, latency, backlog and memory of the standalone netsync server (`netsync ADDR --log off`), driven over');
  push('real HTTP on loopback by a load generator in its own process, beside a bare Express 5 endpoint measured in the');
  push('same run. Machines are noisy: only ratios from one run mean anything.', '');
  push(`- Machine: ${machine()}`);
  push(`- Command: \`${input.command}\``);
  push(`- Date: ${input.date.toISOString()}`);
  push(`- Load: ${input.clients} concurrent keep-alive clients, ${(input.durationMs / 1000).toFixed(1)} s per scenario after a warm-up${input.quick ? ' (quick run)' : ''}`, '');

  if (input.http) {
    const http = input.http;
    const base = baselineOf(http.rows);
    push('## HTTP scenarios', '');
    push('Ratios in parentheses are to the mean of the two baseline runs of this run (before and after the netsync');
    push('scenarios). Server CPU is per completed request, summed over the server processes of the scenario.', '');
    push('| scenario | what | req/s | p50 ms | p99 ms | errors | server µs CPU/req |');
    push('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of http.rows) push(row(r, base));
    push('');
    const checks = http.rows.filter((r) => r.check);
    if (checks.length > 0) {
      push('Backlog checks (after the load, are all parked waiters still waiting?):', '');
      for (const r of checks) push(`- ${r.name}: ${r.check ?? ''}`);
      push('');
    }
    push(...backlogSection(http.backlog));
    push(...metricsSection(http.rows));
    push('## Memory', '');
    if (http.memorySkipped) push(`Skipped: ${http.memorySkipped}`, '');
    else {
      const floor = http.memory.find((m) => m.name === MEMORY_FLOOR);
      push('RSS (from /proc) of a fresh server process, idle and while it holds never-matching requests open.', '');
      push('| process | waiters spread | idle RSS MB | RSS with waiters MB | waiters | KB per waiter above idle |');
      push('| --- | --- | ---: | ---: | ---: | ---: |');
      for (const m of http.memory) {
        const vsFloor = floor && m !== floor ? ` (${againstFloor(m, floor)})` : '';
        push(`| ${m.name} | ${m.shape} | ${mb(m.idleRss)} | ${mb(m.loadedRss)}${vsFloor} | ${m.waiters} | ${(m.perWaiter / 1024).toFixed(2)} |`);
      }
      push('');
    }
    push('## Targets', '', 'Stated goals, printed, never asserted.', '');
    push('| target | measured | met |', '| --- | --- | --- |');
    for (const t of checkTargets(http)) push(`| ${t.target} | ${t.measured} | ${t.met === undefined ? '–' : t.met ? 'yes' : 'no'} |`);
    push('');
  }

  if (input.micro.length > 0) {
    push('## Micro-benchmarks', '');
    for (const m of input.micro) {
      push(`### bench/${m.name}.ts (${m.status})`, '');
      if (m.output) push('```', m.output, '```', '');
    }
  }

  push('## Notes', '');
  push('- Scenarios: *baseline* is a bare Express 5 app answering `{ok:true}`; *private pairs*: clients 2k and 2k+1 share');
  push('  event k and loop, each answered request counts once; *shared event*: every client in one event, any two match;');
  push('  *backlog*: the shared event again while a separate process keeps 10,000 waiters parked in that event with');
  push('  `selector=role=ghost` (no request has that label, so they never match): identical requests (one class), or');
  push('  distinct actors (10,000 classes), or *own friend*: distinct actors each with its own `selector=actor=absent<i>`');
  push('  (10,000 distinct selectors, like players waiting for friends who never come); *groups of three*: two players');
  push('  and a maker per event with set-based selectors;');
  push('  *Redis pairs*: two instances on one Redis, the two members of every pair on different instances.');
  push('- The Go original answers about 1.6× a bare Express endpoint, but with 10,000 never-matching waiters in the same');
  push('  event it collapses about 1000-fold (p50 5 s), since it scans every waiter per arrival, and holds about 55 KB per');
  push('  waiting request.');
  push('- Pair and group latency includes waiting for the mates: the clients of one event send together, so the later');
  push('  arrival waits briefly for the earlier to be parsed and matched.');
  push('- Memory: RSS per waiter is measured above each process\'s own idle RSS; the hold-open Express app is the floor');
  push('  (what Node and Express cost to keep a request open), served as the standalone server is (`expressServerOptions`)');
  push('  so that the two differ by netsync alone; the same app served by `app.listen` is shown for reference. Every');
  push('  waiter has its own actor, `selector=role=ghost`, `timeout=600s` and a short payload; netsync is measured twice,');
  push('  in fresh processes side by side with the floors: *one event*, all');
  push('  the waiters in one event (the common shape: many callers of one event waiting for someone who is not there),');
  push('  and *own events*, one event per waiter (the store keeps a bucket per event, so this spread costs it most).');
  push('  The RSS target is read on the shared event, since the stated goal is about requests that wait, and that is how');
  push('  requests wait in practice. It is usually the lighter of the two (one bucket and one family for all instead of');
  push('  one each per waiter), so the per-event spread is shown beside it in the targets table, met or not.');
  push('- Profiling: `npm run bench -- profile` runs the server under `node --cpu-prof` with the private-pairs load and');
  push('  prints self time by origin and by function (`--backlog`: the shared event beside 10,000 parked waiters with');
  push('  distinct selectors). Profiles stay in bench/.out/, which git ignores.');
  push('- Changed for performance: the MemoryStore files each selector family (the classes of an event that share a');
  push('  selector) under one label value its selector requires (`actor=absent7` under actor → absent7, `kind in (a,b)`');
  push('  under both values); families whose selector requires no such value (`!=`, `notin`, `exists`, `!`, `>`, `<`, the');
  push('  empty selector) stay in a short list. An arrival looks up its own few labels and that list, so it only checks');
  push('  selectors that may accept it: beside 10,000 waiters each with its own `actor=absent<i>` it makes a handful of');
  push('  selector checks instead of 10,000 (the *own friend* row was 0.04× of the shared event before, p50 385 ms). The');
  push('  groups formed are the same as before (oldest compatible first, the same group candidates), checked against a');
  push('  brute-force model; an event with a single family keeps no index, so waiters in events of their own cost nothing');
  push('  more. The other way round, a family of two or more classes files them by label, so a newcomer that requires a');
  push('  label value (`actor=p7` among 10,000 players waiting for `role=gm`) checks only the classes with that value;');
  push('  this costs about 50 bytes of heap per class in such families (bench/engine.ts).');
  push('- Changed for performance in the router and hub, after profiling the private-pairs load (netsync\'s own code was');
  push('  18% of server self time; Node HTTP, writev and Express/body-parser the rest): `/event` is one route step instead');
  push('  of four, and reads a body only when the request has one; the router waits through an internal sink with a');
  push('  cancel handle instead of a promise, an AbortController and listeners per request (the public `send` is the');
  push('  same mechanism wrapped in a promise); compiled selectors are shared by text in a bounded cache; each answer is');
  push('  one `writeHead`, and a group\'s result is serialised once for all its members. Before: private pairs 0.77× the');
  push('  baseline at 353 µs server CPU per request, RSS with 10,000 waiters 1.26× the hold-open app (20.8 KB per');
  push('  waiter); heap per waiter above the hold-open app went from 5.0 KB to 2.5 KB.');
  for (const n of input.http?.notes ?? []) push(`- ${n}`);
  push('');
  return out.join('\n');
}
