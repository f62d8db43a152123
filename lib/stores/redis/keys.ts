// The Redis key layout of the store: per-event keys share one hash tag (one cluster slot); global keys stay outside.

/**
 * The base of every key of one event: `<prefix>{<event as base64url>}:`. base64url is injective and never
 * contains `{` or `}`, so two events never share keys and each event's keys hash to one slot.
 */
export function eventBase(prefix: string, event: string): string {
  return `${prefix}{${Buffer.from(event, 'utf8').toString('base64url')}}:`;
}

/** A stored group result of one request, read after a pub/sub gap. */
export function resultKey(prefix: string, event: string, id: string): string {
  return `${eventBase(prefix, event)}res:${id}`;
}

/** ZSET instance id → lease expiry (Redis server time, ms). */
export function registryKey(prefix: string): string {
  return `${prefix}instances`;
}

/** One instance's lease (a string with a TTL), for operators and tooling. */
export function leaseKey(prefix: string, instanceId: string): string {
  return `${prefix}lease:${instanceId}`;
}

/** ZSET event → time of its last offer: the events /stats reads. */
export function eventsKey(prefix: string): string {
  return `${prefix}events`;
}

/** The pub/sub channel on which an instance receives the groups its members joined. */
export function instanceChannel(prefix: string, instanceId: string): string {
  return `${prefix}inst:${instanceId}`;
}

/** Prefixes may not contain `{`/`}`: they would change the hash tag and split an event across slots. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || /[{}]/.test(prefix)) {
    throw new TypeError(`RedisStore: option prefix must be a string without "{" or "}", got ${JSON.stringify(prefix)}`);
  }
}
