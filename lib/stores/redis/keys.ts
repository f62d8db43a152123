// The Redis key layout of the store: per-event keys share one hash tag (one cluster slot); global keys stay outside.

/**
 * The record format version, part of every key and channel name: a rolling deploy that changes the format
 * bumps it, so old and new instances never read each other's records.
 */
export const SCHEMA = 'v3';

/** The versioned root of every key and channel of one store: `<prefix>v3:`. */
function root(prefix: string): string {
  return `${prefix}${SCHEMA}:`;
}

/**
 * The base of every key of one event: `<prefix>v3:{<event as base64url>}:`. base64url is injective and never
 * contains `{` or `}`, so two events never share keys and each event's keys hash to one slot.
 */
export function eventBase(prefix: string, event: string): string {
  return `${root(prefix)}{${Buffer.from(event, 'utf8').toString('base64url')}}:`;
}

/**
 * The hash of one event's pending records; the first key of every event script (the others derive from it, and
 * a cluster routes the script by it). `<records key>~` is reserved: the slot guard probes it (redis/cluster.ts).
 */
export function recordsKey(prefix: string, event: string): string {
  return `${eventBase(prefix, event)}reqs`;
}

/** One request's outcome: the group it joined, or an empty tombstone once withdrawn or read. */
export function resultKey(prefix: string, event: string, id: string): string {
  return `${eventBase(prefix, event)}res:${id}`;
}

/** ZSET instance id → lease expiry (Redis server time, ms). */
export function registryKey(prefix: string): string {
  return `${root(prefix)}instances`;
}

/** ZSET event → time of the last offer that left a request pending (server µs): the events /stats and the sweep read. */
export function eventsKey(prefix: string): string {
  return `${root(prefix)}events`;
}

/** The pub/sub channel on which an instance receives the groups its members joined. */
export function instanceChannel(prefix: string, instanceId: string): string {
  return `${root(prefix)}inst:${instanceId}`;
}

/** Prefixes may not contain `{`/`}`: they would change the hash tag and split an event across slots. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError(`RedisStore: option prefix must be a string without "{" or "}", got ${JSON.stringify(prefix)}`);
  }
}
