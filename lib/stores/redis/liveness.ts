// Who is alive, as the instance registry said at one moment: the snapshot every matcher script judges owners by.

/** A registry snapshot: Redis's clock when it was read and every registered instance with its lease expiry. */
export interface Liveness {
  /** Redis server time of the read, ms. */
  readonly time: number;
  /** Flat pairs: instance id, lease expiry (server ms). */
  readonly entries: readonly string[];
}

/** The registry script's reply tail (`now`, `[id, expiry, ...]`) as a snapshot. */
export function livenessOf(time: string, entries: readonly string[]): Liveness {
  return { time: Number(time), entries };
}

/** The snapshot as the Lua `load_liveness` reads it; `leaseMs` bounds how long an unlisted newcomer counts as live. */
export function livenessJson(liveness: Liveness, leaseMs: number): { t: number; lease: number; ids: readonly string[] } {
  return { t: liveness.time, lease: leaseMs, ids: liveness.entries };
}

/**
 * For /stats: listed in the snapshot, or registered after it (instance ids start with their registration
 * time in base 36). A record of any other owner belongs to an instance whose lease lapsed.
 */
export function isListed(liveness: Liveness, owner: string): boolean {
  for (let i = 0; i < liveness.entries.length; i += 2) if (liveness.entries[i] === owner) return true;
  const dash = owner.indexOf('-');
  return dash > 0 && parseInt(owner.slice(0, dash), 36) >= liveness.time;
}
