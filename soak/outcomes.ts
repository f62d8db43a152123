// How a scenario's answers are counted: by status and error code, 5xx against the documented 503s, worst latency.
import type { Answer } from './client';
import type { Violations } from './ledger';

/** The 503 codes the README documents; which of them a scenario may see depends on what it does to the server. */
export type Documented503 = 'overloaded' | 'shutting_down' | 'store_unavailable';

/** Answers of one scenario, counted. */
export interface Tally {
  requests: number;
  /** `200`, `400 bad_request`, `503 store_unavailable`, `no answer: aborted`, … → how many. */
  readonly outcomes: Map<string, number>;
  fiveXx: number;
  /** 5xx answers that are a 503 with a code the scenario documents. */
  documented503: number;
  maxLatencyMs: number;
}

/** An empty tally. */
export function newTally(): Tally {
  return { requests: 0, outcomes: new Map(), fiveXx: 0, documented503: 0, maxLatencyMs: 0 };
}

/** The error code of an error answer, if its body is `{"error":{"code":…}}`. */
export function errorCodeOf(answer: Answer): string | undefined {
  try {
    const parsed = JSON.parse(answer.body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : undefined;
  } catch {
    return undefined;
  }
}

/** A short name for how `answer` ended. */
export function outcomeOf(answer: Answer): string {
  if (answer.status === 0) return `no answer: ${answer.failure ?? 'closed'}`;
  if (answer.status === 200) return '200';
  return `${answer.status} ${errorCodeOf(answer) ?? '(no error code)'}`;
}

/** Count `answer`; `documented` are the 503 codes this scenario may legitimately answer. */
export function count(tally: Tally, answer: Answer, documented: ReadonlySet<Documented503>): void {
  tally.requests++;
  const outcome = outcomeOf(answer);
  tally.outcomes.set(outcome, (tally.outcomes.get(outcome) ?? 0) + 1);
  if (answer.status >= 500) {
    tally.fiveXx++;
    const code = errorCodeOf(answer);
    if (answer.status === 503 && code !== undefined && (documented as ReadonlySet<string>).has(code)) tally.documented503++;
  }
  if (answer.status !== 0) tally.maxLatencyMs = Math.max(tally.maxLatencyMs, answer.ms);
}

/** The checks of bad input: every request must get a 4xx with a JSON error body. */
export interface BadInputCheck {
  readonly tried: number;
  /** Case name → how many tried, how many did not get a 4xx JSON error, and one example of a failure. */
  readonly byCase: Map<string, { tried: number; failed: number; example?: string }>;
}

/** What one scenario found. */
export interface ScenarioResult {
  readonly name: string;
  readonly what: string;
  readonly tally: Tally;
  readonly groups: number;
  readonly violations: Violations;
  /** A few descriptions of violations and failures. */
  readonly samples: readonly string[];
  readonly notes: readonly string[];
  readonly seconds: number;
  readonly badInput?: BadInputCheck;
  /** Shutdown: waiters answered, exit code and how long the exit took. */
  readonly shutdown?: { readonly waiters: number; readonly answered503: number; readonly closedClean: number; readonly other: number; readonly exitCode: number | null; readonly exitMs: number };
  /** Disconnect storm: the server's RSS after each round (after a full collection), in bytes. */
  readonly rssRounds?: readonly number[];
  /** Disconnect storm: the server's heap in use after each round's collection, in bytes. */
  readonly heapRounds?: readonly number[];
}
