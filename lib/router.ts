// STUB — replaced by the Express router factory.
import { Router } from 'express';
import type { LogOption } from './log';
import { Netsync } from './netsync';
import type { MatcherStore } from './stores/types';

/** Options of the router factory (DESIGN §4). */
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
  /** Serve `GET /stats`. Default true. */
  stats?: boolean;
  /** Lifecycle logging. Default off. */
  log?: LogOption;
}

/** The Router netsync returns, with the hub it drives (close it to answer waiters `shutting_down`). */
export type NetsyncRouter = Router & { readonly hub: Netsync };

/** An Express Router serving `GET|POST /event` and `GET /stats` under wherever the host mounts it. */
export function netsync(options: NetsyncRouterOptions = {}): NetsyncRouter {
  const hub = options.hub ?? new Netsync();
  return Object.assign(Router(), { hub });
}
