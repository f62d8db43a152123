// The one error type of netsync: every failure a caller can see is a NetsyncError with a code and an HTTP status.

/** Every error code netsync reports, with the HTTP status the router answers with. */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_selector: 400,
  method_not_allowed: 405,
  too_large: 413,
  timeout: 504,
  overloaded: 503,
  shutting_down: 503,
  store_unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** An error that a client caused or must react to; `message` says what to fix. */
export class NetsyncError extends Error {
  override readonly name = 'NetsyncError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as `Retry-After`), for `overloaded`. */
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.retryAfter = options?.retryAfter;
  }

  /** The body the HTTP API sends: `{ error: { code, message } }`. */
  toJSON(): { error: { code: ErrorCode; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Factories for each failure, so wording and status are decided in one place. */
export const errors = {
  badRequest: (message: string): NetsyncError => new NetsyncError('bad_request', message),
  invalidSelector: (selector: string, detail: string, cause?: unknown): NetsyncError =>
    new NetsyncError('invalid_selector', `invalid selector ${JSON.stringify(selector)}: ${detail}`, { cause }),
  /** A method the route does not serve; the router sends the methods it does serve as `Allow`. */
  methodNotAllowed: (method: string, allowed: readonly string[]): NetsyncError =>
    new NetsyncError('method_not_allowed', `${method} is not served here; use ${allowed.join(' or ')}`),
  tooLarge: (limit: string | number): NetsyncError =>
    new NetsyncError('too_large', `request body is larger than the limit of ${limit}`),
  timeout: (ms: number): NetsyncError =>
    new NetsyncError('timeout', `no match within ${formatMs(ms)}; send again or raise timeout`),
  overloaded: (maxPending: number, retryAfter = 1): NetsyncError =>
    new NetsyncError('overloaded', `too many pending requests (limit ${maxPending}); retry later`, { retryAfter }),
  shuttingDown: (): NetsyncError => new NetsyncError('shutting_down', 'netsync is shutting down; retry on another instance'),
  storeUnavailable: (detail: string, cause?: unknown): NetsyncError =>
    new NetsyncError('store_unavailable', `the store is unavailable: ${detail}`, { cause }),
  /** A failure of netsync itself; its cause stays in the process, the client sees no internals. */
  internal: (cause?: unknown): NetsyncError => new NetsyncError('internal', 'internal error', { cause }),
};

/** True for a NetsyncError (also across duplicated module copies, by shape). */
export function isNetsyncError(value: unknown): value is NetsyncError {
  return value instanceof NetsyncError || (value instanceof Error && value.name === 'NetsyncError' && typeof (value as NetsyncError).code === 'string');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
