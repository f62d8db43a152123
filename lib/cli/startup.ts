// The startup line of the standalone server: an address a user can paste into curl, and which store serves it.
import type { AddressInfo } from 'node:net';

/** Addresses that mean "every interface": nobody can connect to them, so the line also names one that works. */
const ANY_ADDRESS: ReadonlySet<string> = new Set(['::', '0.0.0.0']);

/**
 * `http://127.0.0.1:8000` for a server bound to one address; for every interface the bound address with a hint,
 * `http://[::]:8000 (all interfaces; try http://127.0.0.1:8000)`.
 */
export function describeListening(address: AddressInfo): string {
  const url = urlOf(address.address, address.family, address.port);
  if (!ANY_ADDRESS.has(address.address)) return url;
  return `${url} (all interfaces; try ${urlOf('127.0.0.1', 'IPv4', address.port)})`;
}

/**
 * `memory`, the Redis URL, or `cluster:` and the seed URLs, comma-separated; URLs without their password (the
 * line goes to logs that others read).
 */
export function describeStore(redisUrl: string | undefined, clusterSeeds?: readonly string[]): string {
  if (clusterSeeds !== undefined) return `cluster:${clusterSeeds.map((seed) => describeStore(seed)).join(',')}`;
  if (redisUrl === undefined) return 'memory';
  try {
    const url = new URL(redisUrl);
    if (url.password !== '') url.password = '';
    return url.toString();
  } catch {
    return 'redis';
  }
}

function urlOf(host: string, family: string, port: number): string {
  return `http://${family === 'IPv6' ? `[${host}]` : host}:${port}`;
}
