// Parses the wait durations of the HTTP API: `timeout` fields (seconds or `500ms`/`30s`/`2m`/`1h`) and the `maxWait` option.

/** Longest wait a Node.js timer can hold (about 24.8 days); longer timers would fire at once. */
export const MAX_WAIT_MS = 2_147_483_647;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?|\.\d+)(ms|s|m|h)?$/;

/**
 * Milliseconds for a duration: a number or a unitless string counts in `unitlessMs` units (1000 for the
 * `timeout` field's seconds), a string may carry a unit. Returns undefined unless the result is a
 * positive wait a timer can hold; sub-millisecond waits round up to 1 ms so that `> 0` stays true.
 */
export function parseDuration(value: unknown, unitlessMs: number): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value * unitlessMs;
  } else if (typeof value === 'string') {
    const parts = DURATION.exec(value.trim());
    if (parts === null) return undefined;
    const unit = parts[2];
    ms = Number(parts[1]) * (unit === undefined ? unitlessMs : (UNIT_MS[unit] ?? Number.NaN));
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  const rounded = Math.ceil(ms);
  return rounded <= MAX_WAIT_MS ? rounded : undefined;
}
