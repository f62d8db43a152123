// The one error type of netsync: every failure a caller can see is a NetsyncError with a code and an HTTP status.
// No imports: the client (`netsync/client`) bundles this module too, so it must stay free of server code.

/** Every error code the router answers with, and its HTTP status. */
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

/** A code the router answers with. */
export type ServerErrorCode = keyof typeof ERROR_STATUS;

/**
 * Codes only the client (`netsync/client`) makes, with their status; the router never answers them.
 * `unreachable` (status 0): no answer from netsync at all — the network failed, or a proxy in front of it
 * answered 502/503 on its own.
 */
export const CLIENT_ERROR_STATUS = {
  unreachable: 0,
} as const;

/** Every code a NetsyncError may carry. */
export type ErrorCode = ServerErrorCode | keyof typeof CLIENT_ERROR_STATUS;

const STATUS_OF: Readonly<Record<ErrorCode, number>> = { ...ERROR_STATUS, ...CLIENT_ERROR_STATUS };

/** An error that a client caused or must react to; `message` says what to fix. */
export class NetsyncError extends Error {
  override readonly name = 'NetsyncError';
  readonly code: ErrorCode;
  readonly status: number;
  /** Seconds a client should wait before retrying (sent as `Retry-After`), for `overloaded`. */
  readonly retryAfter: number | undefined;

  /**
   * `status` defaults to the code's own; the client passes the status it received when an answer that is
   * not netsync's (a wrong base URL's 404) is reported under the nearest code.
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfter?: number; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.status ?? STATUS_OF[code];
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
  /** Client side: no answer from netsync (the network failed, or a proxy answered for it). Status 0. */
  unreachable: (url: string, detail: string, cause?: unknown): NetsyncError =>
    new NetsyncError('unreachable', `cannot reach netsync at ${url}: ${detail}`, { cause }),
  /**
   * Client side: the error a netsync server answered with, keeping the status it sent. A code this client
   * does not know (a newer server's) is reported under the nearest known code, with the server's code in the message.
   */
  answered: (code: string, message: string, status: number, retryAfter?: number): NetsyncError => {
    const options = retryAfter === undefined ? { status } : { status, retryAfter };
    if (Object.prototype.hasOwnProperty.call(ERROR_STATUS, code)) return new NetsyncError(code as ServerErrorCode, message, options);
    const nearest: ErrorCode = status >= 400 && status < 500 ? 'bad_request' : status === 503 ? 'store_unavailable' : 'internal';
    return new NetsyncError(nearest, `${code}: ${message}`, options);
  },
  /**
   * Client side: an answer without netsync's `{error:{code,message}}` body, under the nearest code. A 502/503
   * is a proxy saying netsync is away (`unreachable`, worth retrying); a 504 a proxy that gave up waiting, as
   * netsync's own `timeout` would; anything else keeps its status (a wrong base URL's 404 is a `bad_request`).
   */
  foreignAnswer: (url: string, status: number, detail: string): NetsyncError => {
    if (status === 502 || status === 503) {
      return new NetsyncError('unreachable', `cannot reach netsync at ${url}: the server in front of it answered ${status} (${detail})`);
    }
    const code: ErrorCode = status === 504 ? 'timeout' : status >= 400 && status < 500 ? 'bad_request' : 'internal';
    return new NetsyncError(code, `${url} answered ${status}, not as netsync does (${detail}); is the base URL right?`, { status });
  },
};

/** True for a NetsyncError (also across duplicated module copies, by shape). */
export function isNetsyncError(value: unknown): value is NetsyncError {
  return value instanceof NetsyncError || (value instanceof Error && value.name === 'NetsyncError' && typeof (value as NetsyncError).code === 'string');
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
