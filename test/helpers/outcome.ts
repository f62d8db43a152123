// How a send ended, recorded as soon as it settles, so tests can inspect outcomes later and no rejection goes unhandled.
import type { Match } from '../../lib/types';

/** A send's outcome: its match, or what it was rejected with. */
export type Outcome = { ok: true; match: Match } | { ok: false; error: unknown };

/** The outcome of `promise`, which never rejects. */
export function settle(promise: Promise<Match>): Promise<Outcome> {
  return promise.then((match): Outcome => ({ ok: true, match }), (error: unknown): Outcome => ({ ok: false, error }));
}
