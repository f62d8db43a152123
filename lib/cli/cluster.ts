// `--redis-cluster URL[,URL…]`: the seed nodes of a Redis Cluster, and the cluster client the standalone server makes of them.
import type { RedisClusterOptions } from '@redis/client';

/** The seed URLs of `--redis-cluster`, or a message saying which one is not a Redis URL. */
export function parseSeeds(text: string, isRedisUrl: (url: string) => boolean): readonly string[] | string {
  const seeds = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (seeds.length === 0) return 'invalid --redis-cluster "": give the URL of at least one node (redis://host:port)';
  const bad = seeds.find((s) => !isRedisUrl(s));
  if (bad !== undefined) return `invalid --redis-cluster URL ${JSON.stringify(bad)}: use redis://host:port or rediss://host:port, comma-separated`;
  return seeds;
}

/**
 * Options of the cluster client. The seeds only lead to the cluster; every node's connection takes `defaults`,
 * so the first seed's credentials and TLS apply to all nodes, as they do with one Redis.
 */
export function clusterOptions(seeds: readonly string[], reconnect: (retries: number, cause: Error) => number | Error): RedisClusterOptions {
  const first = new URL(seeds[0] as string);
  return {
    rootNodes: seeds.map((url) => ({ url })),
    defaults: {
      // Commands fail at once while a node is away, so callers get `store_unavailable` instead of hanging.
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnect, ...(first.protocol === 'rediss:' ? { tls: true as const } : {}) },
      ...(first.username === '' ? {} : { username: decodeURIComponent(first.username) }),
      ...(first.password === '' ? {} : { password: decodeURIComponent(first.password) }),
    },
  };
}
