// NetsyncClient: the HTTP API of a netsync server over `fetch`, for Node.js 20+ and browsers.
import { errors, isNetsyncError } from '../errors';
import { parseDuration } from '../http/duration';
import type { Match, SendParams, StatsTree } from '../types';
import { MATCH, readAnswer, STATS, type Expected } from './answer';
import { retryDelay, retryPolicy, type RetryOptions } from './retry';
import { sleep } from './sleep';

/** The `fetch` the client calls: the global one, or the host's (for a proxy agent, or a test double). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options of `new NetsyncClient(baseUrl, options)`. */
export interface NetsyncClientOptions {
  /** Default: the global `fetch`, looked up at each call so a later polyfill is used too. */
  fetch?: FetchLike;
  /** Sent with every request, for the host's auth (`{ authorization: 'Bearer …' }`). */
  headers?: ConstructorParameters<typeof Headers>[0];
}

/** Options of one `send`. */
export interface ClientSendOptions {
  /** Aborting withdraws the request (its connection closes); `send` rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * How long to wait for a match: milliseconds, or a duration string (`500ms`, `30s`, `2m`). Sent as the
   * request's `timeout` field, so the server answers `timeout` (504); with `retry`, it bounds all attempts.
   */
  timeout?: number | string;
  /**
   * Send again after `overloaded` (once the server's Retry-After has passed) and after `store_unavailable`
   * or `unreachable` (capped exponential backoff with jitter), until a match, the signal or the timeout.
   * Never after a 4xx or a 504. Default false.
   */
  retry?: boolean | RetryOptions;
}

/** Options of `stats()`. */
export interface ClientStatsOptions {
  signal?: AbortSignal;
}

/** A client of one netsync mount, such as `https://example.com/sync`. */
export class NetsyncClient {
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #headers: Headers;

  /** `baseUrl` is where the router is mounted; in a browser it may be relative to the page (`/sync`). */
  constructor(baseUrl: string | URL, options: NetsyncClientOptions = {}) {
    // Throws TypeError for a relative URL where there is no page to resolve it against (Node.js).
    const base = new URL(String(baseUrl), pageUrl()).href;
    // Relative to the mount, `event` and `stats` must resolve under it, not beside it.
    this.#base = base.endsWith('/') ? base : `${base}/`;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#headers = new Headers(options.headers);
  }

  /**
   * Wait for mates as `POST <mount>/event` does. Resolves to the group's Match; rejects with a NetsyncError
   * (the server's code and message, or `unreachable` with status 0), or with the signal's reason when aborted.
   */
  async send(params: SendParams, options: ClientSendOptions = {}): Promise<Match> {
    const { signal } = options;
    const policy = retryPolicy(options.retry);
    const timeoutMs = options.timeout === undefined ? undefined : readTimeout(options.timeout);
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    let lastError: unknown;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const left = deadline === undefined ? undefined : deadline - Date.now();
      // Out of time between attempts: the reason the last attempt failed says more than a bare timeout.
      if (left !== undefined && left <= 0) throw attempt === 0 ? errors.timeout(timeoutMs as number) : lastError;
      const body = left === undefined ? params : { ...params, timeout: `${left}ms` };
      try {
        return await this.#call('event', { method: 'POST', body: JSON.stringify(body) }, signal, MATCH);
      } catch (error) {
        if (policy === undefined || signal?.aborted || !isNetsyncError(error)) throw error;
        lastError = error;
        const delay = retryDelay(error, attempt, policy);
        // A wait that would outlast the caller's timeout ends now, with the reason the last attempt failed.
        if (delay === undefined || (deadline !== undefined && Date.now() + delay >= deadline)) throw error;
        await sleep(delay, signal);
      }
    }
  }

  /** The pending requests, as `GET <mount>/stats` lists them: event → actor → request id → entry. */
  async stats(options: ClientStatsOptions = {}): Promise<StatsTree> {
    return this.#call('stats', { method: 'GET' }, options.signal, STATS);
  }

  async #call<T>(path: string, init: RequestInit, signal: AbortSignal | undefined, expected: Expected<T>): Promise<T> {
    const url = new URL(path, this.#base).href;
    const headers = new Headers(this.#headers);
    headers.set('accept', 'application/json');
    if (init.body !== undefined) headers.set('content-type', 'application/json');
    let status: number;
    let answerHeaders: Headers;
    let text: string;
    try {
      const response = await this.#fetch(url, { ...init, headers, ...(signal === undefined ? {} : { signal }) });
      status = response.status;
      answerHeaders = response.headers;
      text = await response.text();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw errors.unreachable(url, messageOf(error), error);
    }
    return readAnswer({ url, status, headers: answerHeaders, text }, expected);
  }
}

/** The page's address in a browser (or a worker), undefined elsewhere. */
function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href;
}

/** Milliseconds of a `timeout` option: a number of milliseconds or a duration string. */
function readTimeout(value: number | string): number {
  // Unitless values count in milliseconds here, as in the router's maxWait (the HTTP field counts seconds).
  const ms = parseDuration(value, 1);
  if (ms === undefined) {
    throw errors.badRequest(`timeout must be a positive number of milliseconds or a duration (500ms, 30s, 2m), got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** The reason `fetch` failed: undici puts the socket's error (ECONNREFUSED …) in `cause`. */
function messageOf(error: unknown): string {
  // By shape: fetch's errors may come from another realm (a test sandbox, an iframe), where instanceof fails.
  const cause = hasMessage(error) ? error.cause : undefined;
  const detail = hasMessage(cause) ? `: ${cause.message}` : '';
  return `${hasMessage(error) ? error.message : String(error)}${detail}`;
}

function hasMessage(value: unknown): value is { message: string; cause?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
