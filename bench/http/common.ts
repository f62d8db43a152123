// Shapes and arithmetic shared by the benchmark's orchestrator and its child processes.

/** Which request loop a load generator runs. */
export type LoadKind = 'baseline' | 'pairs' | 'shared' | 'groups' | 'lobby' | 'widen';

/** What the orchestrator asks one load-generator process to do. */
export interface LoadConfig {
  readonly kind: LoadKind;
  /** Base URLs (`http://127.0.0.1:PORT`); client i talks to targets[i % targets.length]. */
  readonly targets: readonly string[];
  /** Concurrent clients, each one keep-alive request at a time. */
  readonly clients: number;
  /** Event-name prefix, unique per run so a shared Redis never mixes runs. */
  readonly eventPrefix: string;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** The measured phase also stops after this many requests. */
  readonly maxRequests: number;
  /** After stopping, how long requests still in flight may finish before they are aborted. */
  readonly graceMs: number;
}

/** What a load generator reports for its measured phase. */
export interface LoadResult {
  readonly completed: number;
  readonly errors: number;
  /** Requests aborted at the end because no mate was left to meet them (not errors). */
  readonly abandoned: number;
  readonly elapsedMs: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time the generator itself used, to tell when it, not the server, is the bottleneck. */
  readonly loadgenCpuMs: number;
  readonly errorSamples: readonly string[];
}

/** Event names of one benchmark process start with this, so its requests never meet another run's. */
export function eventPrefix(): string {
  return `bench${process.pid}t${Date.now().toString(36)}-`;
}

/** Line a load generator prints when its measured phase starts (so the server's CPU can be sampled). */
export const MEASURE_MARK = 'measure';

/** Prefix of the line a server traced with `--gc` prints on SIGUSR2: its loop-batch totals (loop-batches.ts). */
export const LOOP_BATCHES_MARK = 'loop-batches ';

/** How many clients move in lockstep in one private event (1: every client on its own). */
export function groupSize(kind: LoadKind): number {
  return kind === 'pairs' || kind === 'widen' ? 2 : kind === 'groups' ? 3 : kind === 'lobby' ? 4 : 1;
}

/** The request path client `client` sends in scenario `kind`. */
export function requestPath(kind: LoadKind, client: number, eventPrefix: string): string {
  const actor = `a${client}`;
  switch (kind) {
    case 'baseline':
      return `/event?event=${eventPrefix}b&actor=${actor}`;
    case 'pairs':
      return `/event?event=${eventPrefix}p${Math.floor(client / 2)}&actor=${actor}&mates=1&payload=${actor}&timeout=30s`;
    case 'lobby':
      // Lobbies of 2 to 4 (`mates=1..3`), four clients each: the second arrival opens the window, the fourth fills it.
      return `/event?event=${eventPrefix}l${Math.floor(client / 4)}&actor=${actor}&mates=1..3&linger=200ms&payload=${actor}&timeout=30s`;
    case 'widen':
      // Private pairs where one of the two carries a widening stage (a timer that the match clears).
      return `/event?event=${eventPrefix}w${Math.floor(client / 2)}&actor=${actor}&mates=1&payload=${actor}&timeout=30s` +
        (client % 2 === 0 ? `&widen=${encodeURIComponent('100ms:')}` : '');
    case 'shared':
      return `/event?event=${eventPrefix}shared&actor=${actor}&mates=1&payload=${actor}&timeout=30s`;
    case 'groups': {
      // Two players and a maker per event: every member's set-based selector admits the other two.
      const labels = client % 3 === 2 ? 'kind=maker,tier=silver' : 'kind=player,tier=gold';
      const selector = encodeURIComponent('kind in (player,maker),tier!=bronze');
      return `/event?event=${eventPrefix}g${Math.floor(client / 3)}&actor=${actor}&mates=2&payload=${actor}` +
        `&labels=${encodeURIComponent(labels)}&selector=${selector}&timeout=30s`;
    }
  }
}

/** A path for a waiter that can never match: its selector (default `role=ghost`) wants a label nobody has. */
export function ghostPath(event: string, actor: string, selector = 'role=ghost'): string {
  return `/event?event=${encodeURIComponent(event)}&actor=${encodeURIComponent(actor)}&mates=1` +
    `&selector=${encodeURIComponent(selector)}&payload=parked&timeout=600s`;
}

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The q-quantile (0..1) of ascending samples, nearest-rank; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}
