// The soak's verdict: targets met or not, and RELIABILITY.md with every figure behind them.
import { machine } from '../bench/http/report';
import { mb } from '../bench/http/suite';
import { addViolations, noViolations, totalOf, type Violations } from './ledger';
import type { BadInputCheck, ScenarioResult } from './outcomes';
import { shutdownMet } from './scenarios/shutdown';
import type { RssSample } from './servers';

/** Largest growth of the storm's RSS over its first round that still passes. */
const RSS_TOLERANCE = 0.1;

/** Everything one soak run produced. */
export interface SoakRun {
  readonly command: string;
  readonly started: Date;
  readonly seconds: number;
  readonly quick: boolean;
  /** Only some parts ran (`--only`): targets of the others are left out. */
  readonly partial: boolean;
  readonly openFiles: number;
  readonly maxOpen: number;
  readonly results: readonly ScenarioResult[];
  readonly crashes: ReadonlyArray<{ name: string; stderr: string }>;
  readonly rss: readonly RssSample[];
  /** Scenarios that could not run, and why. */
  readonly failures: readonly string[];
}

/** One target with what was measured. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

/** Sums over every scenario. */
function totals(run: SoakRun): { requests: number; violations: Violations; fiveXx: number; documented: number; maxLatencyMs: number } {
  const violations = noViolations();
  let requests = 0;
  let fiveXx = 0;
  let documented = 0;
  let maxLatencyMs = 0;
  for (const r of run.results) {
    addViolations(violations, r.violations);
    requests += r.tally.requests;
    fiveXx += r.tally.fiveXx;
    documented += r.tally.documented503;
    maxLatencyMs = Math.max(maxLatencyMs, r.tally.maxLatencyMs);
  }
  return { requests, violations, fiveXx, documented, maxLatencyMs };
}

/** The targets of the issue, each checked against the run. */
export function checkTargets(run: SoakRun): TargetCheck[] {
  const t = totals(run);
  const out: TargetCheck[] = [
    { target: '0 violations', measured: describeViolations(t.violations), met: totalOf(t.violations) === 0 },
    {
      target: '0 5xx except documented 503s',
      measured: `${t.fiveXx} 5xx, of which ${t.documented} documented 503s`,
      met: t.fiveXx === t.documented,
    },
    {
      target: '0 crashes',
      measured: run.crashes.length === 0 ? 'none' : run.crashes.map((c) => c.name).join(', '),
      met: run.crashes.length === 0,
    },
  ];
  const storm = run.results.find((r) => r.rssRounds !== undefined);
  const rounds = storm?.rssRounds ?? [];
  const first = rounds[0];
  const badRuns = run.results.flatMap((r) => (r.badInput === undefined ? [] : [r.badInput]));
  const bad = badRuns.length === 0 ? undefined : { tried: badRuns.reduce((sum, b) => sum + b.tried, 0), failed: badRuns.reduce((sum, b) => sum + failedOf(b), 0) };
  const down = run.results.find((r) => r.shutdown !== undefined)?.shutdown;
  if (!run.partial || storm) out.push({
    target: `storm RSS back within ${RSS_TOLERANCE * 100}% of round 1's after every round (not more than ${RSS_TOLERANCE * 100}% above it)`,
    measured: first === undefined ? 'storm did not run' : rounds.map((r) => `${mb(r)} MB (${formatRatio(r / first)})`).join(', '),
    met: first !== undefined && rounds.every((r) => r <= first * (1 + RSS_TOLERANCE)),
  });
  if (!run.partial || bad) out.push({
    target: 'every malformed request refused with a 4xx JSON error',
    measured: bad === undefined ? 'did not run' : `${bad.tried - bad.failed} of ${bad.tried}`,
    met: bad !== undefined && bad.failed === 0,
  });
  if (!run.partial || down) out.push({
    target: 'SIGTERM: every waiter 503 shutting_down or closed cleanly, exit 0 within 5 s',
    measured:
      down === undefined
        ? 'did not run'
        : `${down.answered503} × 503, ${down.closedClean} closed, ${down.other} other; exit ${down.exitCode} after ${down.exitMs} ms`,
    met: down !== undefined && shutdownMet(down),
  });
  if (run.failures.length > 0) out.push({ target: 'every scenario ran', measured: run.failures.join('; '), met: false });
  return out;
}

function failedOf(check: BadInputCheck): number {
  return [...check.byCase.values()].reduce((sum, e) => sum + e.failed, 0);
}

function describeViolations(v: Violations): string {
  const nonZero = Object.entries(v).filter(([, n]) => n > 0);
  return nonZero.length === 0 ? '0' : nonZero.map(([k, n]) => `${n} ${k}`).join(', ');
}

function formatRatio(ratio: number): string {
  return `${ratio >= 1 ? '+' : ''}${((ratio - 1) * 100).toFixed(1)}%`;
}

function outcomes(r: ScenarioResult): string {
  return [...r.tally.outcomes.entries()]
    .sort((x, y) => y[1] - x[1])
    .map(([k, n]) => `${n} × ${k}`)
    .join(', ');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** RSS over time per instance: a reading about every `stepSeconds`, plus the peak. */
function rssTimeline(samples: readonly RssSample[], stepSeconds: number): string[] {
  const byServer = new Map<string, RssSample[]>();
  for (const s of samples) byServer.set(s.server, [...(byServer.get(s.server) ?? []), s]);
  const lines = ['| instance | peak MB | RSS MB over time (seconds since start: MB) |', '| --- | ---: | --- |'];
  for (const [server, list] of byServer) {
    const picked: RssSample[] = [];
    for (const s of list) if (picked.length === 0 || s.at - (picked[picked.length - 1] as RssSample).at >= stepSeconds) picked.push(s);
    const last = list[list.length - 1] as RssSample;
    if (picked[picked.length - 1] !== last) picked.push(last);
    const peak = Math.max(...list.map((s) => s.rss));
    lines.push(`| ${server} | ${mb(peak)} | ${picked.map((s) => `${s.at.toFixed(0)}: ${mb(s.rss)}`).join(', ')} |`);
  }
  return lines;
}

/** RELIABILITY.md for `run`. */
export function renderMarkdown(run: SoakRun): string {
  const t = totals(run);
  const targets = checkTargets(run);
  const out: string[] = [
    '# Reliability',
    '',
    'A bounded soak of the standalone netsync server: `npm run soak` builds the package, starts the CLI',
    '(`netsync 127.0.0.1:0 --log off`, with `--redis` against a private `redis-server` it starts on a free port)',
    'and drives it over loopback from its own process, one fresh connection per request. It checks every answer',
    'against the matching rules (ARCHITECTURE.md, matching rules), writes this file and exits non-zero when a target is missed.',
    '`npm run soak -- --quick` is the same in small (under a minute); `--cli PATH` drives another build;',
    '`--only matching,storm,malformed,sigterm,redis` runs some parts and reports to a scratch file instead.',
    '',
    'Waiting requests hold one socket each in the soak and in the server: 10,000 at once need as many open',
    'files on both sides. The soak reads `ulimit -n`, keeps at most that less 256 (and never more than 11,000)',
    'requests open, and sends in waves of whole groups, saying so below, when the limit is lower.',
    'The instance of the disconnect storm runs the same CLI with `node --expose-gc --require <preload>`: the',
    'preload runs a full collection on SIGUSR2, so the RSS after each round is read at the same point of the',
    'collector\'s cycle (without it, readings differ by a fifth between rounds with no leak at all).',
    '',
    `- Command: \`${run.command}\``,
    `- Date: ${run.started.toISOString()}, ${run.seconds.toFixed(0)} s`,
    `- Machine: ${machine()}`,
    `- Open files: soft limit ${run.openFiles}; at most ${run.maxOpen} requests of the soak open at once`,
    `- Requests tried: ${t.requests}; max latency of an answered request: ${(t.maxLatencyMs / 1000).toFixed(2)} s`,
    `- Violations: ${describeViolations(t.violations)}; 5xx: ${t.fiveXx} (documented 503s: ${t.documented}); crashes: ${run.crashes.length}`,
    '',
    '## Targets',
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...targets.map((c) => `| ${cell(c.target)} | ${cell(c.measured)} | ${c.met ? 'yes' : '**NO**'} |`),
    '',
    'Violations: *wrongSize* a group not of mates+1; *nonMutual* two members whose selectors and labels do not',
    'accept each other (or differ in event or mates); *ghost* a member withdrawn before its mates came; *double*',
    'a request in two groups; *split* a member answered an error while its mates got the group; *lost* a member',
    'that never got its group; *foreign* an answer naming a request never sent; *unanswered* no answer although',
    'every mate was there. Every member of a group must receive the identical text. Latency is from the first',
    'byte sent to the last byte read, including the wait for mates.',
    '',
    '## Scenarios',
    '',
    '| scenario | requests | groups | outcomes | violations | 5xx (documented) | max latency s | seconds |',
    '| --- | ---: | ---: | --- | --- | ---: | ---: | ---: |',
    ...run.results.map(
      (r) =>
        `| ${cell(r.name)} | ${r.tally.requests} | ${r.groups} | ${cell(outcomes(r))} | ${describeViolations(r.violations)} | ` +
        `${r.tally.fiveXx} (${r.tally.documented503}) | ${(r.tally.maxLatencyMs / 1000).toFixed(2)} | ${r.seconds.toFixed(1)} |`,
    ),
    '',
  ];
  for (const r of run.results) {
    out.push(`### ${r.name}`, '', r.what, '');
    const bullets = [...r.notes.map((n) => `- note: ${n}`), ...r.samples.map((s) => `- ${cell(s)}`)];
    if (r.rssRounds) bullets.push(`- RSS after each round, read after a full collection: ${r.rssRounds.map((b) => `${mb(b)} MB`).join(', ')}`);
    if (r.heapRounds) bullets.push(`- heap in use after that collection: ${r.heapRounds.map((b) => `${mb(b)} MB`).join(', ')}`);
    if (r.shutdown) {
      const d = r.shutdown;
      bullets.push(`- ${d.answered503} answered 503 shutting_down, ${d.closedClean} closed without an answer, ${d.other} other; exit code ${d.exitCode} after ${d.exitMs} ms`);
    }
    if (bullets.length > 0) out.push(...bullets, '');
    if (r.badInput) {
      out.push('| kind | tried | not refused with a 4xx JSON error | first such case |', '| --- | ---: | ---: | --- |');
      const kinds = [...r.badInput.byCase.entries()].sort((x, y) => x[0].localeCompare(y[0]));
      for (const [kind, e] of kinds) out.push(`| ${cell(kind)} | ${e.tried} | ${e.failed} | ${e.example === undefined ? '' : `\`${cell(e.example).replace(/`/g, "'")}\``} |`);
      out.push('');
    }
  }
  if (run.crashes.length > 0) {
    out.push('## Crashes', '');
    for (const c of run.crashes) out.push(`- ${c.name}: ${cell(c.stderr) || 'no stderr'}`);
    out.push('');
  }
  if (run.failures.length > 0) {
    out.push('## Scenarios that did not run', '');
    for (const f of run.failures) out.push(`- ${cell(f)}`);
    out.push('');
  }
  out.push('## RSS over time', '', 'VmRSS of each CLI instance, read from /proc once a second.', '', ...rssTimeline(run.rss, run.quick ? 5 : 15), '');
  return out.join('\n');
}
