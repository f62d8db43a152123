// The small part of a Redis client the store uses, so any client that can provide it will do.

/** Keys and arguments of a script call, as node-redis takes them. */
export interface ScriptCall {
  keys: string[];
  arguments: string[];
}

/**
 * The small part of a Redis client that RedisStore needs. A node-redis (v5+) client created with
 * `createClient()` and connected satisfies it as it is. (A node-redis cluster client, `createCluster()`, is
 * taken too: the store wraps it, see RedisClusterLike in cluster.ts.) The store calls `duplicate()` once for its
 * pub/sub connection and `connect()`s that copy itself.
 *
 * Another client needs a thin adapter. For ioredis, roughly (one `message` listener per connection,
 * dispatching by channel, so subscribing again never piles up listeners):
 *
 * ```ts
 * const adapt = (r: Redis): RedisClientLike => {
 *   const listeners = new Map<string, (message: string, channel: string) => void>();
 *   r.on('message', (channel: string, message: string) => listeners.get(channel)?.(message, channel));
 *   return {
 *     get isReady() { return r.status === 'ready'; },
 *     eval: (src, { keys, arguments: args }) => r.eval(src, keys.length, ...keys, ...args),
 *     evalSha: (sha, { keys, arguments: args }) => r.evalsha(sha, keys.length, ...keys, ...args),
 *     subscribe: async (channel, listener) => {
 *       listeners.set(channel, listener);
 *       await r.subscribe(channel);
 *     },
 *     unsubscribe: async (channel) => {
 *       listeners.delete(channel);
 *       await r.unsubscribe(channel);
 *     },
 *     duplicate: () => adapt(r.duplicate({ lazyConnect: true })),
 *     connect: () => r.connect(),
 *     close: () => r.quit(),
 *     destroy: () => r.disconnect(),
 *     on: (event, listener) => r.on(event, listener),
 *     off: (event, listener) => r.off(event, listener),
 *   };
 * };
 * ```
 *
 * Create the ioredis client with `enableOfflineQueue: false`, so that commands fail at once while Redis is
 * away instead of waiting in its queue. An ioredis `NOSCRIPT` error's message starts with `NOSCRIPT` too,
 * which is all the store looks at.
 *
 * Recovery after an outage starts on the client's `ready` event, so it comes as soon as the client
 * reconnects: with node-redis, a `socket.reconnectStrategy` whose delays stay under a second (its default
 * backs off to about two seconds) keeps recovery within a second of Redis coming back.
 */
export interface RedisClientLike {
  /** True while commands can be sent right now (connected, not reconnecting). */
  readonly isReady: boolean;
  eval(script: string, options: ScriptCall): Promise<unknown>;
  evalSha(sha1: string, options: ScriptCall): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** A new, unconnected client with the same options. */
  duplicate(): RedisClientLike;
  connect(): Promise<unknown>;
  /** Close gracefully. */
  close(): Promise<unknown>;
  /** Close at once. */
  destroy(): void;
  /** `error`: the connection failed (the client reconnects by itself); `ready`: connected again. */
  on(event: 'error' | 'ready', listener: (error?: unknown) => void): unknown;
  off(event: 'error' | 'ready', listener: (error?: unknown) => void): unknown;
}

/** A command that was never sent (not connected), or that Redis certainly did not run: no effect in Redis. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
}
