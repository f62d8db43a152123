// STUB — replaced by the hub.
import { EventEmitter } from 'node:events';
import type { Group, MatcherStore, PendingRequest } from './stores/types';
import type { Match, SendParams, StatsTree } from './types';

export interface NetsyncOptions {
  /** Where pending requests live. Default: a new MemoryStore. */
  store?: MatcherStore;
  /** Largest `mates` accepted. Default 64. */
  maxMates?: number;
  /** Most requests this hub lets wait at once; past it `overloaded`. Default 100000. */
  maxPending?: number;
}

export interface SendOptions {
  /** Aborting withdraws the request at once. */
  signal?: AbortSignal;
  /** Reject with `timeout` after this many milliseconds without a match. */
  timeoutMs?: number;
}

/** Why a pending request left without a group. */
export type WithdrawReason = 'aborted' | 'timeout' | 'closed' | 'lost';

/** Lifecycle events, for logs and metrics. Only this hub's own requests emit `pending` and `withdrawn`. */
export interface NetsyncEvents {
  /** A request of this hub is waiting. */
  pending: [req: PendingRequest];
  /** A group with at least one member of this hub formed. */
  match: [group: Group, match: Match];
  /** A request of this hub left without a group. */
  withdrawn: [req: PendingRequest, reason: WithdrawReason];
}

/** The rendezvous hub. */
export class Netsync extends EventEmitter<NetsyncEvents> {
  readonly maxMates: number = 64;
  readonly maxPending: number = 100000;
  constructor(_options: NetsyncOptions = {}) {
    super();
  }
  send(_params: SendParams, _options: SendOptions = {}): Promise<Match> {
    throw new Error('not implemented');
  }
  stats(): Promise<StatsTree> {
    throw new Error('not implemented');
  }
  close(): Promise<void> {
    throw new Error('not implemented');
  }
}
