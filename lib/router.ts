// The Express router factory: `GET|POST /event` and `GET /stats` wherever the host mounts it (README, HTTP API reference).
import bodyParser from 'body-parser';
import { verifyUtf8 } from './http/charset';
import { Router } from 'express';
import { allowMethods, errorHandler, eventHandler, statsHandler } from './http/handlers';
import { resolveOptions } from './http/options';
import type { StatsOption } from './http/stats';
import { attachLogger, type LogOption } from './log';
import type { Netsync } from './netsync';
import type { MatcherStore } from './stores/types';

/** Options of the router factory (README, HTTP API reference). */
export interface NetsyncRouterOptions {
  /** Where pending requests live when the router makes its own hub. Default: a new MemoryStore. */
  store?: MatcherStore;
  /** A hub to share with other routers or the programmatic API (then store/maxMates/maxPending are the hub's). */
  hub?: Netsync;
  /** Largest `mates` accepted. Default 64. */
  maxMates?: number;
  /** Cap on any wait: milliseconds or a duration string (`30s`). Default: no cap. */
  maxWait?: number | string;
  /** Most requests waiting at once before `overloaded`. Default 100000. */
  maxPending?: number;
  /** Body size limit, bytes or a string like `64kb`. Default 64 KiB. */
  limit?: number | string;
  /**
   * `GET /stats`: `true` shows every pending request with its payload, `'redacted'` leaves payloads out,
   * `false` serves no /stats (the path falls through to the host). Default true.
   */
  stats?: StatsOption;
  /** Lifecycle logging. Default off. */
  log?: LogOption;
}

/** The Router netsync returns, with the hub it drives (close it to answer waiters `shutting_down`). */
export type NetsyncRouter = Router & { readonly hub: Netsync };

/** Nodes a body the host parsed may hold beyond one per byte of the limit (see lib/http/body.ts). */
const PARSED_NODE_ALLOWANCE = 10_000;

/** An Express Router serving `GET|POST /event` and `GET /stats` under wherever the host mounts it. */
export function netsync(options: NetsyncRouterOptions = {}): NetsyncRouter {
  const settings = resolveOptions(options);
  const { hub } = settings;
  if (settings.log !== undefined) attachLogger(hub, settings.log);

  const router = Router();
  const readBody = bodyParser.text({ type: () => true, limit: settings.limitBytes, defaultCharset: 'utf-8', verify: verifyUtf8 });
  // One route step for /event: each further step costs a pass through the router's dispatch per request.
  router.all('/event', eventHandler(hub, {
    readBody,
    limitLabel: settings.limitLabel,
    maxWaitMs: settings.maxWaitMs,
    parsedNodeBudget: PARSED_NODE_ALLOWANCE + settings.limitBytes,
    maxBodyBytes: settings.limitBytes,
  }));
  if (settings.stats !== false) {
    router.all('/stats', allowMethods('GET', 'HEAD'), statsHandler(hub, { redacted: settings.stats === 'redacted' }), errorHandler(settings.limitLabel));
  }
  return Object.assign(router, { hub });
}
