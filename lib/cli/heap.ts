// The V8 settings the standalone server makes for its own process. A library must not change how its host's
// process collects garbage, so the router leaves this to the host (README, serving many waiters).
import { setFlagsFromString } from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for this process; call it before the process serves its first
 * request. V8 watches, per object literal in the code, how many of the objects it made survive their first
 * collections, and once nearly all do, makes that literal's objects in the old generation from then on.
 * A server that starts into a crowd of waiters (a restart that thousands of clients reconnect to) teaches
 * it exactly that about every literal a request passes, and the decision is never taken back: afterwards
 * each request's short-lived objects are made old, hold their young neighbours alive through every
 * young-generation collection until a full one, and make those collections several times dearer
 * (BENCHMARKS.md, the backlog's cost). Request handling makes few objects that live long, so the
 * server gives up this guess.
 */
export function tuneHeap(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}
