// The request handlers of the router's two routes, and the error handler both routes end with.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { errors, isNetsyncError } from '../errors';
import type { Netsync } from '../netsync';
import type { SendParams } from '../types';
import { MatchSerializer, serialize, writeError, writeText } from './output';
import { outputForError, readEventRequest, readStatsOutput, type EventRequest, type RequestLimits } from './request';

/** Lets only `methods` into a route; other methods fall through to the host's routes. */
export function allowMethods(...methods: string[]): RequestHandler {
  return function netsyncMethodGate(req: Request, _res: Response, next: NextFunction): void {
    next(methods.includes(req.method) ? undefined : 'route');
  };
}

/** `GET|POST /event`: decode, wait for the group, answer every member with the group's one text. */
export function eventHandler(hub: Netsync, limits: RequestLimits): RequestHandler {
  const serializer = new MatchSerializer();
  return function netsyncEvent(req: Request, res: Response): void {
    let request: EventRequest;
    try {
      request = readEventRequest(req, limits);
    } catch (error) {
      writeError(res, error, outputForError(req));
      return;
    }
    const { fields, timeoutMs, output } = request;
    // A client that goes away withdraws its request at once (DESIGN §3 rule 5).
    const controller = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort();
    };
    res.once('close', onClose);
    if (res.destroyed || req.socket.destroyed) controller.abort();
    // normalizeParams (inside send) checks the decoded fields; SendParams documents that they may still be raw.
    const params = fields as unknown as SendParams;
    send(hub, params, { signal: controller.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) })
      .then(
        (match) => writeText(res, 200, output, serializer.text(match, output)),
        (error: unknown) => {
          if (!controller.signal.aborted) writeError(res, error, output);
        },
      )
      .catch((error: unknown) => writeError(res, error, output))
      .finally(() => res.off('close', onClose));
  };
}

/** `GET /stats`: the pending requests of every instance sharing the hub's store. */
export function statsHandler(hub: Netsync): RequestHandler {
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
      .then((tree) => writeText(res, 200, output, serialize(tree, output)))
      .catch((error: unknown) => writeError(res, error, output));
  };
}

/**
 * The last handler of each netsync route (never of the host's): body-parser's failures become
 * `too_large` or `bad_request`, anything else a bare 500; answers only if the client still listens.
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
  // body-parser tags each of its errors with a type: aborted or short bodies, unknown charsets or encodings.
  if (typeof type === 'string') return errors.badRequest(`cannot read the body: ${(error as Error).message}`);
  return error;
}

function send(hub: Netsync, params: SendParams, options: { signal: AbortSignal; timeoutMs?: number }): Promise<Awaited<ReturnType<Netsync['send']>>> {
  try {
    return hub.send(params, options);
  } catch (error) {
    // A hub that throws instead of rejecting must still not take the process down.
    return Promise.reject(error);
  }
}
