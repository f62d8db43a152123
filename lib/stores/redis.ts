// STUB — replaced by the Redis store.
import type { MatcherStore, MatchListener, PendingRequest, PendingSnapshot } from './types';

/** The small part of a Redis client the store needs (node-redis v5+; an ioredis adapter can provide it). */
export interface RedisClientLike {
  duplicate(): RedisClientLike;
}

export interface RedisStoreOptions {
  /** A connected client; the store duplicates it for pub/sub. */
  client: RedisClientLike;
  /** Key prefix. Default `netsync:`. */
  prefix?: string;
  /** Instance lease in ms. Default 5000. */
  leaseMs?: number;
}

export class RedisStore implements MatcherStore {
  constructor(_options: RedisStoreOptions) {}
  offer(_req: PendingRequest): Promise<void> {
    throw new Error('not implemented');
  }
  withdraw(_id: string): Promise<boolean> {
    throw new Error('not implemented');
  }
  onMatch(_listener: MatchListener): void {
    throw new Error('not implemented');
  }
  pending(): Promise<PendingSnapshot[]> {
    throw new Error('not implemented');
  }
  close(): Promise<void> {
    throw new Error('not implemented');
  }
}
