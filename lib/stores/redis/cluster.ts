// Redis Cluster: a node-redis cluster client seen through the store's client shape, with scripts routed by hand.
//
// Why by hand: node-redis follows an ASK redirect by sending the command to the importing node with ASKING.
// During a slot migration that node holds only the keys moved so far, so a matcher script there would see
// half an event. The store never follows ASK: a script runs only on the node that owns its slot, and a
// script that finds its slot migrating stops before its first write (the slot guard below). MOVED (the
// migration finished) refreshes the slot map. Either way the command certainly did not run, which the store
// treats as "not sent": a new request gets 503 store_unavailable, a waiter is offered again at the next renewal.
import { NotSentError, type RedisClientLike, type ScriptCall } from './client';

/** The part of a node-redis cluster node client the adapter uses. */
export interface ClusterNodeLike {
  readonly isReady: boolean;
  eval(script: string, options: ScriptCall): Promise<unknown>;
  evalSha(sha1: string, options: ScriptCall): Promise<unknown>;
}

/**
 * The part of a node-redis cluster client (`createCluster()`, connected) that RedisStore needs. Keys route
 * by their hash tag; channels are classic pub/sub, which a cluster delivers to subscribers on every node.
 */
export interface RedisClusterLike {
  /** True once the cluster's slot map is known (a node may still be down). */
  readonly isReady: boolean;
  /** The master of `key`'s slot, connected. */
  getNodeClientForKey(key: string): Promise<ClusterNodeLike>;
  /** A command routed by `firstKey`, following redirects (used only to refresh the slot map after MOVED). */
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** A new, unconnected cluster client with the same options. */
  duplicate(overrides?: { minimizeConnections?: boolean }): RedisClusterLike;
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** A node-redis cluster client, told apart from a single client by its slot routing. */
export function isClusterClient(client: unknown): client is RedisClusterLike {
  if (typeof client !== 'object' || client === null) return false;
  const c = client as Partial<Record<keyof RedisClusterLike | 'masters', unknown>>;
  return typeof c.getNodeClientForKey === 'function' && typeof c.duplicate === 'function' && 'masters' in c;
}

/**
 * Replies meaning Redis did not run the command: redirects, a cluster without quorum or coverage, and the
 * slot guard's TRYAGAIN.
 */
const NOT_RUN = /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /;

/**
 * Lua run first in every script that writes an event's keys: a no-op, except on a node whose slot is migrating
 * (keys already moved, or not yet created, are then out of reach), where the script ends before writing
 * anything. KEYS[1] is one of the event's keys; the probe name shares its hash tag and is never written.
 */
export const SLOT_GUARD_LUA = `
do
  local probe = redis.pcall('EXISTS', KEYS[1] .. '~')
  if type(probe) == 'table' and probe.err then return redis.error_reply('TRYAGAIN ' .. probe.err) end
end
`;

/** `lua` behind the slot guard. */
export function slotGuarded(lua: string): string {
  return SLOT_GUARD_LUA + lua;
}

/**
 * The store's client shape over a cluster client: scripts go to the master of their first key's slot. A copy
 * made by `duplicate()` also reports its parent's nodes coming back as `ready`: a master that restarted may have
 * lost its keys, and the store re-offers its waiters on its pub/sub connection's `ready`.
 */
export function clusterClient(cluster: RedisClusterLike, parent?: RedisClusterLike): RedisClientLike {
  // Listeners as the store registers them, and what they became on the cluster (both `ready` events).
  const wrapped = { ready: new Map<(error?: unknown) => void, (...args: unknown[]) => void>(), error: new Map<(error?: unknown) => void, (...args: unknown[]) => void>() };

  const run = async (keys: string[], send: (node: ClusterNodeLike) => Promise<unknown>): Promise<unknown> => {
    const key = keys[0];
    if (key === undefined) throw new TypeError('a script call on a cluster needs a key to route by');
    if (!cluster.isReady) throw new NotSentError('the cluster client is not connected');
    let node: ClusterNodeLike;
    try {
      node = await cluster.getNodeClientForKey(key);
    } catch (err) {
      // No master known for the slot, or no connection to it: nothing was sent.
      throw new NotSentError('no connected master for this key', { cause: err });
    }
    // A node that is down (reconnecting) would queue the command or fail it later: say so now.
    if (!node.isReady) throw new NotSentError('the master of this key is not connected');
    try {
      return await send(node);
    } catch (err) {
      if (!(err instanceof Error) || !NOT_RUN.test(err.message)) throw err;
      // The slot moved: let node-redis refresh its map (it does so on MOVED), so the next attempt finds the owner.
      if (err.message.startsWith('MOVED')) void cluster.sendCommand(key, true, ['EXISTS', key]).catch(() => undefined);
      throw new NotSentError(`Redis Cluster did not run the command: ${err.message}`, { cause: err });
    }
  };

  return {
    get isReady() {
      return cluster.isReady;
    },
    eval: (script, options) => run(options.keys, (node) => node.eval(script, options)),
    evalSha: (sha1, options) => run(options.keys, (node) => node.evalSha(sha1, options)),
    subscribe: (channel, listener) => cluster.subscribe(channel, listener),
    unsubscribe: (channel) => cluster.unsubscribe(channel),
    // The store's own connections (pub/sub, registry) connect to a node only once they use it.
    duplicate: () => clusterClient(cluster.duplicate({ minimizeConnections: true }), cluster),
    connect: () => cluster.connect(),
    close: () => cluster.close(),
    destroy: () => void cluster.destroy(),
    on(event, listener) {
      const forward = (...args: unknown[]): void => listener(args[0]);
      wrapped[event].set(listener, forward);
      // A node reconnecting is the cluster's `ready`; errors of nodes are the cluster's errors.
      if (event === 'ready') {
        cluster.on('connect', forward);
        cluster.on('node-ready', forward);
        parent?.on('node-ready', forward);
      } else {
        cluster.on('error', forward);
        cluster.on('node-error', forward);
      }
      return this;
    },
    off(event, listener) {
      const forward = wrapped[event].get(listener);
      if (forward === undefined) return this;
      wrapped[event].delete(listener);
      for (const name of event === 'ready' ? ['connect', 'node-ready'] : ['error', 'node-error']) cluster.off(name, forward);
      if (event === 'ready') parent?.off('node-ready', forward);
      return this;
    },
  };
}
