// Prometheus metrics of a hub through prom-client, on the host's registry: queue depth, oldest wait, outcomes,
// time to match and group size. No label ever names an event, actor, selector or payload (cardinality, privacy).
import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';
import { isNetsyncError } from './errors';
import type { Netsync, WithdrawReason } from './netsync';
import type { Group, PendingRequest } from './stores/types';

/** What became of a request, the one label of `netsync_requests_total`. */
export type RequestOutcome = 'matched' | 'timeout' | 'cancelled' | 'disconnected' | 'rejected' | 'unavailable';

/** Options of `netsyncMetrics`. */
export interface NetsyncMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's global registry (`register`). */
  registry?: Registry;
  /** Put before every metric name (`myapp_` gives `myapp_netsync_waiting_requests`), e.g. for two hubs on one registry. Default ''. */
  prefix?: string;
  /** Upper bounds of the time-to-match buckets, in seconds. */
  timeToMatchBuckets?: number[];
  /** Upper bounds of the group-size buckets, in members. */
  groupSizeBuckets?: number[];
}

/** The handle `netsyncMetrics` returns. */
export interface NetsyncMetrics {
  /** Stop counting: remove the hub's listeners and the metrics from the registry (so they may be registered anew). Idempotent. */
  stop(): void;
}

const OUTCOMES: readonly RequestOutcome[] = ['matched', 'timeout', 'cancelled', 'disconnected', 'rejected', 'unavailable'];

const OUTCOME_OF_WITHDRAWAL: Readonly<Record<WithdrawReason, RequestOutcome>> = {
  aborted: 'cancelled',
  disconnected: 'disconnected',
  timeout: 'timeout',
  // The hub closing and the store losing the request both answer 503.
  closed: 'unavailable',
  lost: 'unavailable',
};

/** From a quick pair on one instance to a lobby that waited minutes. */
const TIME_TO_MATCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Members of a group: 1 (`mates: 0`) up to large barriers (maxMates defaults to 64). */
const GROUP_SIZE_BUCKETS = [1, 2, 3, 4, 5, 6, 8, 10, 16, 32, 65];

/**
 * Count `hub`'s requests on a Prometheus registry. Requests are counted from this call on; the waiting
 * gauges read the hub when the registry is scraped. With a shared (Redis) store each process counts its own
 * callers, so sums over instances are the cluster's; a group spanning instances is observed by each of them.
 */
export function netsyncMetrics(hub: Netsync, options: NetsyncMetricsOptions = {}): NetsyncMetrics {
  const { registry = globalRegistry, prefix = '' } = options;
  if (!/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) throw new TypeError(`netsync: metrics prefix must be a valid metric name start, got ${JSON.stringify(prefix)}`);
  const registers = [registry];
  const names = {
    waiting: `${prefix}netsync_waiting_requests`,
    oldest: `${prefix}netsync_oldest_wait_seconds`,
    requests: `${prefix}netsync_requests_total`,
    timeToMatch: `${prefix}netsync_time_to_match_seconds`,
    groupSize: `${prefix}netsync_group_size`,
  };
  /** This hub's waiting callers seen since this call: id → arrival, in arrival order (the first is the oldest). */
  const waiting = new Map<string, number>();

  new Gauge({
    name: names.waiting,
    help: 'Requests of this process waiting for their group.',
    registers,
    collect() {
      this.set(hub.pendingCount);
    },
  });
  new Gauge({
    name: names.oldest,
    help: 'How long the longest-waiting request of this process has waited, in seconds (0 when none waits).',
    registers,
    collect() {
      this.set(oldestWaitSeconds(waiting));
    },
  });
  const requests = new Counter({
    name: names.requests,
    help: 'Requests of this process by outcome: matched, timeout, cancelled, disconnected, rejected (4xx), unavailable (503).',
    labelNames: ['outcome'] as const,
    registers,
  });
  const timeToMatch = new Histogram({
    name: names.timeToMatch,
    help: 'Time from arrival to match of each matched request of this process, in seconds, by the widening stage it matched at (0 = its own selector).',
    labelNames: ['stage'] as const,
    buckets: options.timeToMatchBuckets ?? TIME_TO_MATCH_BUCKETS,
    registers,
  });
  const groupSize = new Histogram({
    name: names.groupSize,
    help: 'Members of each group formed with a member of this process.',
    buckets: options.groupSizeBuckets ?? GROUP_SIZE_BUCKETS,
    registers,
  });
  // Children resolved once: a label lookup per request would cost more than the count itself.
  const counters = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, requests.labels(outcome)])) as Record<RequestOutcome, Counter.Internal>;
  // Every outcome shows from the first scrape, so rates and alerts see a 0 rather than no series.
  for (const outcome of OUTCOMES) counters[outcome].inc(0);
  // A stage is an index below MAX_STAGES + 1, so the label has at most that many values; children are made when first seen.
  const byStage: Histogram.Internal<'stage'>[] = [];
  const timeToMatchAt = (stage: number): Histogram.Internal<'stage'> => (byStage[stage] ??= timeToMatch.labels(String(stage)));

  const onPending = (req: PendingRequest): void => {
    waiting.set(req.id, req.createdAt);
  };
  const onMatch = (group: Group): void => {
    const now = Date.now();
    let own = 0;
    for (const { id, stage } of group.members) {
      const since = waiting.get(id);
      if (since === undefined) continue;
      waiting.delete(id);
      own++;
      timeToMatchAt(stage ?? 0).observe(Math.max(0, now - since) / 1000);
    }
    if (own === 0) return;
    counters.matched.inc(own);
    groupSize.observe(group.members.length);
  };
  const onWithdrawn = (req: PendingRequest, reason: WithdrawReason): void => {
    waiting.delete(req.id);
    counters[OUTCOME_OF_WITHDRAWAL[reason]].inc();
  };
  const onRejected = (error: unknown): void => {
    const status = isNetsyncError(error) ? error.status : 500;
    counters[status >= 400 && status < 500 ? 'rejected' : 'unavailable'].inc();
  };
  hub.on('pending', onPending);
  hub.on('match', onMatch);
  hub.on('withdrawn', onWithdrawn);
  hub.on('rejected', onRejected);

  let stopped = false;
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      hub.off('pending', onPending);
      hub.off('match', onMatch);
      hub.off('withdrawn', onWithdrawn);
      hub.off('rejected', onRejected);
      waiting.clear();
      for (const name of Object.values(names)) registry.removeSingleMetric(name);
    },
  };
}

function oldestWaitSeconds(waiting: ReadonlyMap<string, number>): number {
  for (const since of waiting.values()) return Math.max(0, Date.now() - since) / 1000;
  return 0;
}

