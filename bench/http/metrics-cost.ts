// What `--metrics` costs: private pairs on a server with it and on one without, in alternating rounds of one run.
import type { ChildPrograms } from './build';
import type { LoadConfig, LoadKind, LoadResult } from './common';
import { runLoad, startNetsync, type HttpOptions, type ScenarioRow, type Server } from './suite';

export const PAIRS_PLAIN = 'pairs, metrics off';
export const PAIRS_METERED = 'pairs, --metrics';

/** Two rounds each, in the order off, on, on, off: a drift of the machine over the run weighs on both alike. */
const ROUNDS: readonly boolean[] = [false, true, true, false];

/**
 * Private pairs against a server started with `--metrics` and one without, in ABBA rounds; one row each, the
 * rounds pooled. Skipped (one row saying why) when the CLI has no `--metrics`.
 */
export async function measureMetricsCost(
  programs: ChildPrograms,
  options: HttpOptions,
  loadConfig: (kind: LoadKind, targets: readonly Server[]) => LoadConfig,
  hasMetrics: boolean,
): Promise<ScenarioRow[]> {
  const what = (on: boolean): string =>
    `private pairs, ${on ? 'with' : 'without'} \`--metrics\` (rounds off, on, on, off; ${ROUNDS.length / 2} pooled)`;
  if (!hasMetrics) return [{ name: PAIRS_METERED, what: what(true), skipped: 'the CLI has no --metrics option' }];
  const [plain, metered] = await Promise.all([startNetsync(options), startNetsync(options, ['--metrics'])]);
  const results = new Map<boolean, { result: LoadResult; cpuUs: number }[]>([[false, []], [true, []]]);
  try {
    for (const on of ROUNDS) {
      const server = on ? metered : plain;
      const { result, serverCpuUsPerRequest } = await runLoad(programs, loadConfig('pairs', [server]), [server]);
      results.get(on)?.push({ result, cpuUs: serverCpuUsPerRequest });
    }
    const matched = await scrapeMatched(metered);
    return [
      { name: PAIRS_PLAIN, what: what(false), ...pool(results.get(false) ?? []) },
      { name: PAIRS_METERED, what: what(true), ...pool(results.get(true) ?? []), check: `/metrics counted ${matched} matched requests` },
    ];
  } finally {
    await Promise.all([plain.child.stop(), metered.child.stop()]);
  }
}

/** The rounds of one server as one result: totals over the total time, latencies averaged. */
function pool(rounds: readonly { result: LoadResult; cpuUs: number }[]): { result: LoadResult; serverCpuUsPerRequest: number } {
  const sum = (pick: (r: LoadResult) => number): number => rounds.reduce((total, { result }) => total + pick(result), 0);
  const completed = sum((r) => r.completed);
  const elapsedMs = sum((r) => r.elapsedMs);
  const result: LoadResult = {
    completed,
    errors: sum((r) => r.errors),
    abandoned: sum((r) => r.abandoned),
    elapsedMs,
    rps: elapsedMs > 0 ? (completed * 1000) / elapsedMs : 0,
    p50Ms: sum((r) => r.p50Ms) / rounds.length,
    p99Ms: sum((r) => r.p99Ms) / rounds.length,
    loadgenCpuMs: sum((r) => r.loadgenCpuMs),
    errorSamples: rounds.flatMap(({ result: r }) => r.errorSamples).slice(0, 3),
  };
  const cpuUs = completed > 0 ? rounds.reduce((total, { result: r, cpuUs }) => total + cpuUs * r.completed, 0) / completed : NaN;
  return { result, serverCpuUsPerRequest: cpuUs };
}

/** `netsync_requests_total{outcome="matched"}` as the metered server reports it, so the figure is of a server that counted. */
async function scrapeMatched(server: Server): Promise<string> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return /^netsync_requests_total\{outcome="matched"\} (\d+)$/m.exec(text)?.[1] ?? 'no';
}

/** The metered rate over the plain one, or undefined when either is missing. */
export function metricsRatio(rows: readonly ScenarioRow[]): number | undefined {
  const plain = rows.find((r) => r.name === PAIRS_PLAIN)?.result?.rps;
  const metered = rows.find((r) => r.name === PAIRS_METERED)?.result?.rps;
  return plain && metered !== undefined ? metered / plain : undefined;
}
