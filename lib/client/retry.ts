// When the client sends again after a failure: `overloaded` after the server's Retry-After, an unavailable
// store or an unreachable server after a capped, jittered exponential backoff, anything else never.
import type { NetsyncError } from '../errors';

/** How `send` backs off between attempts; `retry: true` uses the defaults. */
export interface RetryOptions {
  /** Upper bound of the first backoff delay, in milliseconds. Default 100. */
  initialDelayMs?: number;
  /** Cap on any backoff delay, in milliseconds. Default 5000. */
  maxDelayMs?: number;
}

/** The backoff after checks and defaults. */
export interface RetryPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

const DEFAULT_POLICY: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 5000 };

/** The policy `retry` asks for, or undefined for no retries. Throws TypeError for a malformed option. */
export function retryPolicy(retry: boolean | RetryOptions | undefined): RetryPolicy | undefined {
  if (retry === undefined || retry === false) return undefined;
  if (retry === true) return DEFAULT_POLICY;
  const initialDelayMs = retry.initialDelayMs ?? DEFAULT_POLICY.initialDelayMs;
  const maxDelayMs = retry.maxDelayMs ?? Math.max(initialDelayMs, DEFAULT_POLICY.maxDelayMs);
  if (!(initialDelayMs >= 0 && Number.isFinite(initialDelayMs)) || !(maxDelayMs >= initialDelayMs && Number.isFinite(maxDelayMs))) {
    throw new TypeError('netsync client: retry needs 0 <= initialDelayMs <= maxDelayMs, both finite milliseconds');
  }
  return { initialDelayMs, maxDelayMs };
}

/**
 * Milliseconds to wait before attempt `attempt + 1` after `error`, or undefined when it must not be retried:
 * a 4xx would fail the same way again, and a 504 means the caller's own wait is over.
 */
export function retryDelay(error: NetsyncError, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number | undefined {
  switch (error.code) {
    case 'overloaded':
      return error.retryAfter === undefined ? backoff(attempt, policy, random) : error.retryAfter * 1000;
    case 'store_unavailable':
    case 'unreachable':
      return backoff(attempt, policy, random);
    default:
      return undefined;
  }
}

/** "Full jitter": uniform below the capped exponential bound, so many clients that failed together spread out. */
function backoff(attempt: number, policy: RetryPolicy, random: () => number): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * bound);
}
