// The request handlers of the router's two routes, and the error handler both routes end with.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errors, isNetsyncError } from '../errors';
import { reportRejected, waitFor, type Netsync, type PendingSend, type SendSink } from '../netsync';
import type { Match, SendParams } from '../types';
import type { Format } from './format';
import { MatchSerializer, serialize, writeError, writeText } from './output';
import { outputForError, readEventRequest, readStatsOutput, type EventRequest, type RequestLimits } from './request';
import { redactStats } from './stats';

/**
 * Lets only `methods` into a route. The path is netsync's, so another method gets a JSON 405 naming the
 * methods it serves (and `Allow`) rather than the host's 404 page; `OPTIONS` is answered 204 with `Allow`.
 */
export function allowMethods(...methods: string[]): RequestHandler {
  return function netsyncMethodGate(req: Request, res: Response, next: NextFunction): void {
    if (methods.includes(req.method)) next();
    else refuseMethod(req, res, methods);
  };
}

/** Answer a method the route does not serve: `OPTIONS` with 204 and `Allow`, any other with a JSON 405. */
function refuseMethod(req: Request, res: Response, methods: readonly string[]): void {
  const allow = { Allow: methods.join(', ') };
  if (req.method === 'OPTIONS') {
    if (!res.headersSent) res.writeHead(204, { ...allow, 'Content-Length': 0 }).end();
    return;
  }
  writeError(res, errors.methodNotAllowed(req.method, methods), outputForError(req), allow);
}

/** What `/event` serves: a HEAD could only wait for a match whose answer it would never show. */
const EVENT_METHODS: readonly string[] = ['GET', 'POST'];

/** The router's own body reader (body-parser's text parser), called only for a request that has a body. */
export type BodyReader = (req: Request, res: Response, next: (error?: unknown) => void) => void;

/** What the /event route needs besides the hub. */
export interface EventRouteSettings extends RequestLimits {
  readonly readBody: BodyReader;
  /** The limit as the operator wrote it, for `too_large` messages. */
  readonly limitLabel: string;
}

/**
 * `GET|POST /event` as one route step: the method gate, the body (read only when there is one), decoding,
 * the wait for the group, and errors. Every member of a group is answered with the group's one text.
 */
export function eventHandler(hub: Netsync, settings: EventRouteSettings): RequestHandler {
  const serializer = new MatchSerializer();
  const { readBody, limitLabel } = settings;
  const answer = (req: Request, res: Response): void => {
    let request: EventRequest;
    try {
      request = readEventRequest(req, settings);
    } catch (error) {
      reportRejected(hub, error);
      writeError(res, error, outputForError(req));
      return;
    }
    // A client gone before its request was read never waits (ARCHITECTURE.md, matching rules).
    if (res.destroyed || req.socket.destroyed) return;
    const exchange = new Exchange(res, request.output, serializer);
    // normalizeParams (inside the hub) checks the decoded fields; SendParams documents that they may still be raw.
    exchange.start(hub, request.fields as unknown as SendParams, request.timeoutMs);
    // The request is answered through `res` alone from here and never goes back to Express's router, but
    // `req.next` keeps that router's per-request closures alive while it waits, and those of a mounted
    // router too (about 1.5 KB a waiter with the router mounted in an app; BENCHMARKS.md, backlog cost).
    req.next = undefined;
  };
  return function netsyncEvent(req: Request, res: Response): void {
    if (req.method !== 'GET' && req.method !== 'POST') {
      refuseMethod(req, res, EVENT_METHODS);
      return;
    }
    if (!hasBody(req)) {
      answer(req, res);
      return;
    }
    // The body is read as text whatever its type, so `?input=` can overrule Content-Type; a body the host
    // already parsed is left as it is.
    readBody(req, res, (error?: unknown) => {
      if (error === undefined || error === null) {
        answer(req, res);
        return;
      }
      const refusal = fromBodyParser(error, limitLabel);
      reportRejected(hub, refusal);
      writeError(res, refusal, outputForError(req));
    });
  };
}

/**
 * Whether the request carries a body to read: a positive Content-Length or any Transfer-Encoding. Without
 * one, body-parser would only conclude the same; a body the host parsed is already on `req.body`.
 */
function hasBody(req: Request): boolean {
  const { headers } = req;
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Why a waiter is withdrawn when its client goes away; nobody is left to read it. */
const CLIENT_GONE = errors.internal();

/**
 * One /event request while it waits: the sink of its send, and what withdraws it when the client goes
 * away (ARCHITECTURE.md, matching rules). One object and one listener per request, no promise chain.
 */
class Exchange implements SendSink {
  #pending: PendingSend | undefined;
  #settled = false;

  constructor(
    private readonly res: Response,
    private readonly output: Format,
    private readonly serializer: MatchSerializer,
  ) {}

  start(hub: Netsync, params: SendParams, timeoutMs: number | undefined): void {
    try {
      this.#pending = waitFor(hub, params, timeoutMs, this) ?? sendThroughPublicApi(hub, params, timeoutMs, this);
    } catch (error) {
      this.failed(error);
      return;
    }
    if (!this.#settled) this.res.on('close', () => this.#gone());
  }

  matched(match: Match): void {
    if (this.#settled) return;
    this.#settled = true;
    try {
      writeText(this.res, 200, this.output, this.serializer.text(match, this.output));
    } catch (error) {
      writeError(this.res, error, this.output);
    }
  }

  failed(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    writeError(this.res, error, this.output);
  }

  #gone(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#pending?.cancel(CLIENT_GONE, 'disconnected');
  }
}

/**
 * A hub of another copy of this package (its ESM or CommonJS build) is driven through its public API,
 * with an AbortSignal to withdraw.
 */
function sendThroughPublicApi(hub: Netsync, params: SendParams, timeoutMs: number | undefined, sink: SendSink): PendingSend {
  const controller = new AbortController();
  let sending: Promise<Match>;
  try {
    sending = hub.send(params, { signal: controller.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  } catch (error) {
    // A hub that throws instead of rejecting must still not take the process down.
    sending = Promise.reject(error);
  }
  sending.then((match) => sink.matched(match), (error: unknown) => sink.failed(error));
  return { cancel: (reason) => controller.abort(reason) };
}

/** `GET /stats`: the pending requests of every instance sharing the hub's store; `redacted` leaves payloads out. */
export function statsHandler(hub: Netsync, { redacted }: { readonly redacted: boolean }): RequestHandler {
  return function netsyncStats(req: Request, res: Response): void {
    let output: ReturnType<typeof readStatsOutput>;
    try {
      output = readStatsOutput(req);
    } catch (error) {
      writeError(res, error, 'json');
      return;
    }
    hub
      .stats()
      .then((tree) => writeText(res, 200, output, serialize(redacted ? redactStats(tree) : tree, output)))
      .catch((error: unknown) => writeError(res, error, output));
  };
}

/**
 * The last handler of the /stats route (never of the host's; /event answers its own errors the same way):
 * body-parser's failures become `too_large` or `bad_request`, anything else a bare 500; answers only if the
 * client still listens.
 */
export function errorHandler(limitLabel: string): (error: unknown, req: Request, res: Response, next: NextFunction) => void {
  return function netsyncError(error: unknown, req: Request, res: Response, _next: NextFunction): void {
    writeError(res, fromBodyParser(error, limitLabel), outputForError(req));
  };
}

function fromBodyParser(error: unknown, limitLabel: string): unknown {
  if (isNetsyncError(error) || typeof error !== 'object' || error === null) return error;
  const { type } = error as { type?: unknown };
  if (type === 'entity.too.large') return errors.tooLarge(limitLabel);
  // body-parser tags most of its errors with a type: aborted or short bodies, unknown charsets or encodings.
  // A body that fails to decompress (a gzip or deflate Content-Encoding over other bytes) comes untyped,
  // with only a client-error status; it is still the client's mistake, not netsync's.
  if (typeof type === 'string' || isClientErrorStatus(error)) {
    return errors.badRequest(`cannot read the body: ${(error as Error).message}`);
  }
  return error;
}

function isClientErrorStatus(error: object): boolean {
  const { status } = error as { status?: unknown };
  return typeof status === 'number' && status >= 400 && status < 500;
}
