// What `--metrics` costs: private pairs on a server with it and on one without, in alternating rounds of one run.
import type { ChildPrograms } from './build';
import type { LoadConfig, LoadKind } from './common';
import { poolRuns, runLoad, startNetsync, type HttpOptions, type LoadRun, type ScenarioRow, type Server } from './suite';

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
  const results = new Map<boolean, LoadRun[]>([[false, []], [true, []]]);
  try {
    for (const on of ROUNDS) {
      const server = on ? metered : plain;
      results.get(on)?.push(await runLoad(programs, loadConfig('pairs', [server]), [server]));
    }
    const matched = await scrapeMatched(metered);
    return [
      { name: PAIRS_PLAIN, what: what(false), ...poolRuns(results.get(false) ?? []) },
      { name: PAIRS_METERED, what: what(true), ...poolRuns(results.get(true) ?? []), check: `/metrics counted ${matched} matched requests` },
    ];
  } finally {
    await Promise.all([plain.child.stop(), metered.child.stop()]);
  }
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
