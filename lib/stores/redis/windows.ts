// Local wake-ups for linger windows: Redis decides when a window ends (TIME in the scripts); these timers only
// say when to ask it, and the renewal path asks again for any window a lost timer would strand.

/** One bucket: an event and a spec key. */
function bucketOf(event: string, spec: string): string {
  return `${spec}\n${event}`;
}

/**
 * A timer per bucket with an open window that has members here. Deadlines come with Redis's time of the
 * same reply, so the wait (`deadline - now`) is measured on Redis's clock alone and a skewed local clock
 * changes nothing; the reply's travel time only makes the wake-up a little late, never early.
 */
export class WindowTimers {
  readonly #timers = new Map<string, { timer: NodeJS.Timeout; deadline: number }>();
  readonly #fire: (event: string, spec: string) => void;

  /** `fire` runs once per scheduled deadline (for the latest deadline of a bucket). */
  constructor(fire: (event: string, spec: string) => void) {
    this.#fire = fire;
  }

  /** Wake up at `deadline` (server ms), Redis's clock reading `now` (server ms) as the reply was made. */
  schedule(event: string, spec: string, deadline: number, now: number): void {
    const key = bucketOf(event, spec);
    const existing = this.#timers.get(key);
    if (existing !== undefined) {
      if (existing.deadline === deadline) return;
      clearTimeout(existing.timer);
    }
    // One ms past the deadline: Redis's clock then certainly reads it as ended.
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#fire(event, spec);
    }, Math.max(0, deadline - now) + 1);
    timer.unref();
    this.#timers.set(key, { timer, deadline });
  }

  /** The bucket has no window (any more). */
  cancel(event: string, spec: string): void {
    const key = bucketOf(event, spec);
    const existing = this.#timers.get(key);
    if (existing === undefined) return;
    clearTimeout(existing.timer);
    this.#timers.delete(key);
  }

  clear(): void {
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
