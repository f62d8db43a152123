// A Map whose entries may go idle: kept for their next use until idle ones outnumber the others.

/** Idle entries an IdleMap keeps beyond as many as it has live ones. */
const IDLE_SLACK = 64;

/**
 * Entries that empty and are used again soon (one actor's class, which empties with each match and comes back
 * with the actor's next request) stay in the Map while idle. Deleting and re-adding one key in a Map of 10,000
 * leaves a chain of holes under that key until the table is rebuilt, and every lookup walks it. Idle entries
 * are all dropped once they outnumber the live ones (plus a little slack), so memory follows what is live, not
 * history, at O(1) per entry dropped. The owner says when an entry goes idle or comes back.
 *
 * A Map itself rather than a wrapper around one: a store keeps two per event, so one object less each is
 * memory per waiter when every waiter has an event of its own. `isIdle` should be a shared function, not a
 * closure made per map, for the same reason.
 */
export class IdleMap<K, V> extends Map<K, V> {
  readonly #isIdle: (value: V) => boolean;
  #idle = 0;

  constructor(isIdle: (value: V) => boolean) {
    super();
    this.#isIdle = isIdle;
  }

  /** Entries that are not idle. */
  get live(): number {
    return this.size - this.#idle;
  }

  /** An entry went idle; drops every idle entry once they outnumber the live ones (plus slack). */
  wentIdle(): void {
    if (++this.#idle <= IDLE_SLACK + this.size - this.#idle) return;
    for (const [key, value] of this) if (this.#isIdle(value)) this.delete(key);
    this.#idle = 0;
  }

  /** An idle entry is in use again. */
  cameBack(): void {
    this.#idle--;
  }
}
