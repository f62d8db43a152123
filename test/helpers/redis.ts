// Redis for tests: run a suite only when Redis answers (or fail loudly in CI), connected clients, and a fresh key prefix per use.
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { recordsKey, registryKey } from '../../lib/stores/redis/keys';
import { describeWhen } from './describe-when';

/** The Redis the shared suites use (never stopped by a test). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A node-redis client with the options a service would use (offline queue off). */
export function newClient(url = REDIS_URL): TestClient {
  const client = makeClient(url);
  // Connection errors are expected in the outage tests; they surface through the store.
  client.on('error', () => undefined);
  return client;
}

function makeClient(url: string) {
  // Reconnect attempts at most 300 ms apart, so a test sees recovery soon after Redis is back.
  return createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 300) } });
}

/**
 * Resolves on the client's next `ready`. Unlike `events.once`, an `error` emitted first (a reconnecting
 * client reports each failed attempt) does not reject it.
 */
export function nextReady(client: TestClient): Promise<void> {
  return new Promise((resolve) => client.once('ready', () => resolve()));
}

/** A node-redis client as the tests make it. */
export type TestClient = ReturnType<typeof makeClient>;

const available = process.env.NETSYNC_REDIS_AVAILABLE === '1';
const required = process.env.NETSYNC_REQUIRE_REDIS === '1';

/**
 * `describe` for suites that need Redis: runs when the global setup found it; when it did not, the suite
 * fails if NETSYNC_REQUIRE_REDIS=1 and is skipped otherwise (the global setup prints a notice).
 */
export function describeRedis(name: string, fn: () => void): void {
  describeWhen({
    available, required, test: 'needs Redis', skippedAs: 'Redis not available',
    message: `Redis does not answer at ${REDIS_URL} and NETSYNC_REQUIRE_REDIS=1`,
  }, name, fn);
}

/** A unique key prefix, so suites and tests running at once never share keys. */
export function uniquePrefix(): string {
  return `nstest:${randomBytes(5).toString('hex')}:`;
}

/** Connected clients made by one suite, closed and their keys deleted together in `afterAll`. */
export class RedisClients {
  readonly #clients: TestClient[] = [];
  readonly #prefixes: string[] = [];

  /** A new connected client (offline queue off, as a service would configure it). */
  async client(url = REDIS_URL): Promise<TestClient> {
    const client = newClient(url);
    this.#clients.push(client);
    await client.connect();
    return client;
  }

  /** A unique prefix whose keys are deleted at cleanup. */
  prefix(): string {
    const prefix = uniquePrefix();
    this.#prefixes.push(prefix);
    return prefix;
  }

  /** The prefix made last. */
  lastPrefix(): string {
    const prefix = this.#prefixes[this.#prefixes.length - 1];
    if (prefix === undefined) throw new Error('no prefix made yet');
    return prefix;
  }

  /** Delete the prefixes' keys (on the shared Redis) and close every client. */
  async cleanup(): Promise<void> {
    if (this.#prefixes.length > 0) {
      const admin = createClient({ url: REDIS_URL });
      admin.on('error', () => undefined);
      await admin.connect();
      for (const prefix of this.#prefixes.splice(0)) {
        for await (const keys of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await admin.unlink(keys);
        }
      }
      await admin.close();
    }
    for (const client of this.#clients.splice(0)) {
      if (client.isOpen) await client.close().catch(() => client.destroy());
    }
  }
}

/** The owner (instance id) of each pending record of `event`, as stored in Redis. */
export async function recordOwners(admin: TestClient, prefix: string, event: string): Promise<string[]> {
  const records = await admin.hVals(recordsKey(prefix, event));
  return records.map((raw) => raw.slice(0, raw.indexOf('\n')));
}

/** Whether instance `id`'s lease has run out by Redis's clock (or it left the registry). */
export async function leaseLapsed(admin: TestClient, prefix: string, id: string): Promise<boolean> {
  const [expiry, [seconds, micros]] = await Promise.all([admin.zScore(registryKey(prefix), id), admin.time() as unknown as Promise<[string, string]>]);
  return expiry === null || expiry < Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** `client` with some of its members replaced: every other member is the client's own, bound to it. */
export function overriding(client: TestClient, overrides: Readonly<Record<string, unknown>>): TestClient {
  return new Proxy(client, {
    get(target, property) {
      if (typeof property === 'string' && Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * `client` as a store would receive it, plus `crash()`, which destroys it and every connection the store made
 * from it (as a crashed process loses them all), without the store's close() running.
 */
export function crashable(client: TestClient): { client: TestClient; crash: () => void } {
  const copies: TestClient[] = [];
  const observed = overriding(client, {
    duplicate: () => {
      const copy = client.duplicate();
      copies.push(copy);
      return copy;
    },
  });
  const crash = (): void => {
    for (const c of [client, ...copies]) if (c.isOpen) c.destroy();
  };
  return { client: observed, crash };
}
