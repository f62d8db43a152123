// STUB — replaced by the Express router factory.
import { Router } from 'express';
import type { Netsync } from './netsync';
import type { MatcherStore } from './stores/types';

export interface NetsyncRouterOptions {
  store?: MatcherStore;
  hub?: Netsync;
  maxMates?: number;
  maxWait?: number | string;
  maxPending?: number;
  limit?: number | string;
  stats?: boolean;
  log?: unknown;
}

export function netsync(_options: NetsyncRouterOptions = {}): Router {
  return Router();
}
