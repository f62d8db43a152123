// What GET /stats shows: the full tree of pending requests, or the same without payloads.
import type { RequestParams, StatsTree } from '../types';

/** The `stats` router option: `true` the full tree, `'redacted'` without payloads, `false` no /stats at all. */
export type StatsOption = boolean | 'redacted';

/** A /stats tree without payloads: event → actor → id → `{ params (no payload), created_at }`. */
export type RedactedStatsTree = Record<string, Record<string, Record<string, RedactedStatsEntry>>>;

/** One pending request as redacted /stats shows it. */
export interface RedactedStatsEntry {
  readonly params: Omit<RequestParams, 'payload'>;
  readonly created_at: string;
  /** Only for a request with widen stages: its current stage. */
  readonly stage?: number;
  /** Only for a request with widen stages: its current selector. */
  readonly selector?: string;
}

/** `tree` with every payload left out; the tree itself is not changed. */
export function redactStats(tree: StatsTree): RedactedStatsTree {
  const redacted: RedactedStatsTree = {};
  for (const [event, byActor] of Object.entries(tree)) {
    const actors: RedactedStatsTree[string] = {};
    for (const [actor, byId] of Object.entries(byActor)) {
      const entries: RedactedStatsTree[string][string] = {};
      for (const [id, entry] of Object.entries(byId)) {
        const { payload: _payload, ...params } = entry.params;
        defineEntry(entries, id, entry.stage === undefined
          ? { params, created_at: entry.created_at }
          : { params, created_at: entry.created_at, stage: entry.stage, selector: entry.selector ?? params.selector });
      }
      defineEntry(actors, actor, entries);
    }
    defineEntry(redacted, event, actors);
  }
  return redacted;
}

/** An own property even for a name like `__proto__`: events and actors are any text. */
function defineEntry<V>(target: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
