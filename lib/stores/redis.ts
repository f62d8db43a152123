// The Redis store: pending requests and atomic matching in Redis, so app instances sharing it meet each other.
//
// Layout (see redis/keys.ts). Every key of one event carries the hash tag `{<event as base64url>}`, so
// one Lua call (offer, withdraw, list) touches a single cluster slot. Global state sits outside every
// event slot and is never read by those scripts:
//   <prefix>instances         ZSET instance id → lease expiry (Redis server time)
//   <prefix>lease:<id>        the instance's lease as a key with a TTL (for operators and tooling)
//   <prefix>events            ZSET event → last offer, so /stats finds the events
//   <prefix>inst:<id>         pub/sub channel on which an instance receives its groups
//
// Liveness under that constraint: each instance refreshes its registry entry every leaseMs/3 and keeps
// the answer (the live ids and Redis's clock) as a snapshot, which every matcher call carries in ARGV.
// Instance ids begin with their registration time, so the script can tell an instance registered after
// the snapshot (treated as live) from one whose lease expired (its waiters are skipped and purged). A
// dead instance's waiters can thus be matched at most leaseMs + leaseMs/3 (plus one command timeout)
// after its last refresh, never later.
//
// Delivery: the matcher publishes a formed group to each owning instance's channel and also keeps it
// under a per-request result key for RESULT_TTL_MS, read back when the pub/sub connection comes back.
// When the command connection fails, every local waiter is reported lost (the hub answers 503) and the
// instance takes a fresh id on its next offer, abandoning the old one, so those waiters are never matched.
import { randomBytes } from 'node:crypto';
import { errors, type NetsyncError } from '../errors';
import type { RedisClientLike } from './redis/client';
import { classId, decodeGroup, decodeRecord, encodeClass, encodeRequest } from './redis/codec';
import { checkPrefix, eventBase, eventsKey, instanceChannel, leaseKey, registryKey, resultKey } from './redis/keys';
import { EVENTS_LUA, LEASE_LUA, LIST_LUA, OFFER_LUA, REGISTRY_LUA, RESULT_LUA, WITHDRAW_LUA } from './redis/lua';
import { CommandTimeoutError, LuaScript, runScript, withTimeout } from './redis/script';
import { GROUP_SEARCH_BUDGET } from './memory';
import type { LostListener, MatcherStore, MatchListener, PendingRequest, PendingSnapshot } from './types';

export type { RedisClientLike, ScriptCall } from './redis/client';

/** Options of `new RedisStore(...)`. */
export interface RedisStoreOptions {
  /** A connected client; the store duplicates it for pub/sub and never closes it. */
  client: RedisClientLike;
  /** Key and channel prefix. Default `netsync:`. */
  prefix?: string;
  /** Instance lease in ms: how long waiters of a vanished instance can still be matched. Default 5000. */
  leaseMs?: number;
  /** Longest wait for one Redis command before the store counts Redis as unreachable. Default 2000. */
  commandTimeoutMs?: number;
}

/** How long a formed group stays readable for a member whose instance missed the pub/sub message. */
const RESULT_TTL_MS = 30_000;
/** Events with no pending request for this long leave the /stats index. */
const EVENT_IDLE_MS = 60_000;
/** Each process re-announces an event to the /stats index at most this often. */
const EVENT_TOUCH_MS = 10_000;

const OFFER = new LuaScript(OFFER_LUA);
const WITHDRAW = new LuaScript(WITHDRAW_LUA);
const LIST = new LuaScript(LIST_LUA);
const RESULT = new LuaScript(RESULT_LUA);
const REGISTRY = new LuaScript(REGISTRY_LUA);
const LEASE = new LuaScript(LEASE_LUA);
const EVENTS = new LuaScript(EVENTS_LUA);

/** Who is alive, as Redis said at `time` (server ms). */
interface Liveness {
  readonly time: number;
  readonly live: readonly string[];
}

/** One local registration: the instance id, its pub/sub channel and the last liveness snapshot. */
interface Instance {
  readonly id: string;
  readonly channel: string;
  liveness: Liveness;
  /** Local clock when `liveness` was read, to estimate Redis's clock for deadlines. */
  readAt: number;
}

/**
 * A MatcherStore in Redis for several app instances (DESIGN §5): the same rules as MemoryStore, applied
 * atomically by one Lua script per offer; groups reach their members' instances over pub/sub; waiters of
 * an instance whose lease expired are never matched. Redis unreachable: offers reject with
 * `store_unavailable` and local waiters are reported to `onLost`.
 */
export class RedisStore implements MatcherStore {
  readonly #client: RedisClientLike;
  readonly #subscriber: RedisClientLike;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  /** Local waiters: request id → event. */
  readonly #local = new Map<string, string>();
  readonly #matchListeners: MatchListener[] = [];
  readonly #lostListeners: LostListener[] = [];
  /** Ids this process gave up after a failure; the next registration removes them from the registry. */
  readonly #abandoned: string[] = [];
  readonly #touched = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  readonly #subscriberReady: Promise<void>;
  #instance: Instance | undefined;
  #registering: Promise<Instance> | undefined;
  #refreshing = false;
  #closed = false;
  #subscriberWasReady = false;

  constructor(options: RedisStoreOptions) {
    const { client, prefix = 'netsync:', leaseMs = 5000, commandTimeoutMs = 2000 } = options;
    if (typeof client !== 'object' || client === null || typeof client.duplicate !== 'function') {
      throw new TypeError('RedisStore: option client must be a connected Redis client (node-redis createClient())');
    }
    checkPrefix(prefix);
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 30) {
      throw new TypeError(`RedisStore: option leaseMs must be an integer of at least 30, got ${String(leaseMs)}`);
    }
    if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
      throw new TypeError(`RedisStore: option commandTimeoutMs must be a positive integer, got ${String(commandTimeoutMs)}`);
    }
    this.#client = client;
    this.#prefix = prefix;
    this.#leaseMs = leaseMs;
    this.#timeoutMs = commandTimeoutMs;
    this.#subscriber = client.duplicate();
    this.#subscriber.on('error', this.#onSubscriberError);
    this.#subscriber.on('ready', this.#onSubscriberReady);
    this.#client.on('error', this.#onClientError);
    this.#subscriberReady = this.#subscriber.connect().then(() => undefined);
    this.#subscriberReady.catch(() => undefined);
    this.#timer = setInterval(() => void this.#refresh(), Math.max(10, Math.floor(leaseMs / 3)));
    this.#timer.unref();
    // Register early so the first offer does not pay for it; a failure here is retried by that offer.
    this.#register().catch(() => undefined);
  }

  /** Match `req` now with pending requests of every instance, or keep it pending. */
  async offer(req: PendingRequest): Promise<void> {
    if (this.#closed) throw errors.shuttingDown();
    const instance = await this.#register();
    const event = req.params.event;
    this.#local.set(req.id, event);
    const args = [
      instance.id,
      String(this.#serverDeadline(instance)),
      req.id,
      classId(req.classKey),
      String(req.params.mates),
      encodeRequest(req),
      encodeClass(req),
      JSON.stringify(event),
      instanceChannel(this.#prefix, ''),
      String(RESULT_TTL_MS),
      String(GROUP_SEARCH_BUDGET),
      ...livenessArgs(instance.liveness),
    ];
    let reply: unknown;
    try {
      // Sent together (one round trip); only /stats depends on the index, so its failure is not the offer's.
      const touched = this.#touch(event).catch(() => this.#touched.delete(event));
      [reply] = await Promise.all([this.#run(OFFER, [eventBase(this.#prefix, event)], args), touched]);
    } catch (err) {
      this.#local.delete(req.id);
      throw this.#failed(err, 'offer');
    }
    const [kind, message] = reply as [string, string | undefined];
    if (kind === 'late') {
      this.#local.delete(req.id);
      throw errors.storeUnavailable('Redis answered after the offer expired');
    }
    if (kind === 'group' && message !== undefined) {
      this.#deliver(message);
    } else if (this.#instance !== instance && this.#local.delete(req.id)) {
      // The connection failed while this offer was on its way: its waiter belongs to an abandoned id now.
      throw errors.storeUnavailable('the connection to Redis was lost during the offer');
    }
  }

  /** Withdraw a local pending request; false if a group already took it (or it is unknown here). */
  async withdraw(id: string): Promise<boolean> {
    const event = this.#local.get(id);
    if (event === undefined) return false;
    this.#local.delete(id);
    try {
      return (await this.#run(WITHDRAW, [eventBase(this.#prefix, event)], [id])) === 1;
    } catch (err) {
      throw this.#failed(err, 'withdraw');
    }
  }

  /** Subscribe to groups that include a member of this process (each group is reported once). */
  onMatch(listener: MatchListener): void {
    this.#matchListeners.push(listener);
  }

  /** Subscribe to local waiters the store can no longer serve (Redis unreachable, lease lost). */
  onLost(listener: LostListener): void {
    this.#lostListeners.push(listener);
  }

  /** Every live pending request of every instance, oldest first. */
  async pending(): Promise<PendingSnapshot[]> {
    if (this.#closed) return [];
    try {
      const [registry, listed] = await Promise.all([
        this.#run(REGISTRY, [registryKey(this.#prefix)], ['peek']),
        this.#run(EVENTS, [eventsKey(this.#prefix)], ['list']),
      ]);
      const [, time, live] = registry as [string, string, string[]];
      const liveness: Liveness = { time: Number(time), live };
      const events = listed as string[];
      const lists = await Promise.all(
        events.map((event) => this.#run(LIST, [eventBase(this.#prefix, event)], []) as Promise<string[]>),
      );
      const result: PendingSnapshot[] = [];
      const empty: string[] = [];
      lists.forEach((records, i) => {
        if (records.length === 0) empty.push(events[i] as string);
        for (const raw of records) {
          const record = decodeRecord(raw);
          if (isLive(liveness, record.owner)) result.push(record.snapshot);
        }
      });
      if (empty.length > 0) await this.#run(EVENTS, [eventsKey(this.#prefix)], ['prune', String(EVENT_IDLE_MS), ...empty]);
      return result.sort((a, b) => a.createdAt - b.createdAt);
    } catch (err) {
      throw this.#failed(err, 'pending', false);
    }
  }

  /**
   * Withdraw this process's waiters, leave the registry, stop the lease timer and close the pub/sub
   * connection. The caller's own client stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#client.off('error', this.#onClientError);
    const waiting = [...this.#local];
    this.#local.clear();
    const instance = this.#instance;
    this.#instance = undefined;
    if (this.#client.isReady) {
      const farewell: Promise<unknown>[] = waiting.map(([id, event]) =>
        this.#run(WITHDRAW, [eventBase(this.#prefix, event)], [id]),
      );
      if (instance !== undefined) {
        farewell.push(this.#run(REGISTRY, [registryKey(this.#prefix)], ['leave', instance.id]));
        farewell.push(this.#run(LEASE, [leaseKey(this.#prefix, instance.id)], ['0']));
      }
      await Promise.allSettled(farewell);
    }
    await this.#registering?.catch(() => undefined);
    this.#subscriber.off('ready', this.#onSubscriberReady);
    try {
      // A connection that never came up (Redis away since start) is still retrying: destroy it instead.
      await withTimeout(this.#subscriberReady, this.#timeoutMs);
      await withTimeout(this.#subscriber.close(), this.#timeoutMs);
    } catch {
      this.#subscriber.destroy();
    }
    this.#subscriber.off('error', this.#onSubscriberError);
  }

  /** The current registration, making one (fresh id, subscribed channel) when there is none. */
  #register(): Promise<Instance> {
    if (this.#instance !== undefined) return Promise.resolve(this.#instance);
    this.#registering ??= this.#makeInstance().finally(() => {
      this.#registering = undefined;
    });
    return this.#registering;
  }

  async #makeInstance(): Promise<Instance> {
    try {
      await withTimeout(this.#subscriberReady, this.#timeoutMs);
      if (!this.#subscriber.isReady) await readyWithin(this.#subscriber, this.#timeoutMs);
      const abandoned = this.#abandoned.splice(0);
      const suffix = randomBytes(6).toString('base64url');
      const readAt = Date.now();
      const [id, time, live] = (await this.#run(REGISTRY, [registryKey(this.#prefix)], [
        'register', suffix, String(this.#leaseMs), ...abandoned,
      ])) as [string, string, string[]];
      const channel = instanceChannel(this.#prefix, id);
      await withTimeout(this.#subscriber.subscribe(channel, this.#onMessage), this.#timeoutMs);
      await this.#run(LEASE, [leaseKey(this.#prefix, id)], [String(this.#leaseMs)]);
      const instance: Instance = { id, channel, liveness: { time: Number(time), live }, readAt };
      if (this.#closed) {
        await this.#run(REGISTRY, [registryKey(this.#prefix)], ['leave', id]).catch(() => undefined);
        throw errors.shuttingDown();
      }
      this.#instance = instance;
      return instance;
    } catch (err) {
      if (this.#closed) throw errors.shuttingDown();
      throw errors.storeUnavailable(`cannot register with Redis: ${messageOf(err)}`, err);
    }
  }

  /** Renew the lease and the liveness snapshot; a lapsed lease or a failure loses the local waiters. */
  async #refresh(): Promise<void> {
    const instance = this.#instance;
    if (instance === undefined || this.#refreshing || this.#closed) return;
    this.#refreshing = true;
    try {
      const readAt = Date.now();
      const reply = (await this.#run(REGISTRY, [registryKey(this.#prefix)], [
        'refresh', instance.id, String(this.#leaseMs),
      ])) as [string, string?, string[]?];
      if (reply[0] === 'lapsed') {
        this.#lose(errors.storeUnavailable('this instance\'s lease in Redis lapsed'));
        return;
      }
      instance.liveness = { time: Number(reply[1]), live: reply[2] ?? [] };
      instance.readAt = readAt;
      await this.#run(LEASE, [leaseKey(this.#prefix, instance.id)], [String(this.#leaseMs)]);
    } catch (err) {
      if (this.#instance === instance) this.#lose(errors.storeUnavailable(`cannot renew the lease: ${messageOf(err)}`, err));
    } finally {
      this.#refreshing = false;
    }
  }

  /** Offers Redis runs later than this (its own clock) are refused, so a delayed command never leaves a ghost. */
  #serverDeadline(instance: Instance): number {
    return instance.liveness.time + (Date.now() - instance.readAt) + this.#timeoutMs;
  }

  /** Announce `event` to the /stats index (at most every EVENT_TOUCH_MS per process). */
  #touch(event: string): Promise<unknown> {
    const now = Date.now();
    const last = this.#touched.get(event);
    if (last !== undefined && now - last < EVENT_TOUCH_MS) return Promise.resolve();
    this.#touched.set(event, now);
    if (this.#touched.size > 10_000) this.#touched.clear();
    return this.#run(EVENTS, [eventsKey(this.#prefix)], ['touch', event]);
  }

  #run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    if (!this.#client.isReady) return Promise.reject(new Error('not connected to Redis'));
    return runScript(this.#client, script, keys, args, this.#timeoutMs);
  }

  /**
   * The error for a failed command. A failure without an answer may leave the command to run later, so
   * (unless `lose` is false) the local waiters are reported lost and the instance id is abandoned.
   */
  #failed(err: unknown, what: string, lose = true): NetsyncError {
    const error = errors.storeUnavailable(`Redis ${what} failed: ${messageOf(err)}`, err);
    if (lose && !isRedisReply(err)) this.#lose(error);
    return error;
  }

  /** Report every local waiter lost and abandon the instance id (its lease lapses; the next offer re-registers). */
  #lose(error: NetsyncError): void {
    const instance = this.#instance;
    if (instance !== undefined) {
      this.#instance = undefined;
      this.#abandoned.push(instance.id);
      this.#subscriber.unsubscribe(instance.channel).catch(() => undefined);
    }
    if (this.#local.size === 0) return;
    const ids = [...this.#local.keys()];
    this.#local.clear();
    for (const listener of this.#lostListeners) listener(ids, error);
  }

  /** Report a group once, if it has members waiting here. */
  #deliver(message: string): void {
    const group = decodeGroup(message);
    let ours = false;
    for (const { id } of group.members) {
      if (this.#local.delete(id)) ours = true;
    }
    if (!ours) return;
    for (const listener of this.#matchListeners) listener(group);
  }

  /** After a pub/sub gap, read the stored results of the waiters still here. */
  async #recover(): Promise<void> {
    await Promise.all([...this.#local].map(async ([id, event]) => {
      const message = await this.#run(RESULT, [resultKey(this.#prefix, event, id)], []);
      if (typeof message === 'string') this.#deliver(message);
    })).catch(() => undefined);
  }

  readonly #onMessage = (message: string): void => {
    try {
      this.#deliver(message);
    } catch {
      // Not a group message of ours; nothing waits on it.
    }
  };

  readonly #onClientError = (error?: unknown): void => {
    this.#lose(errors.storeUnavailable(`lost the connection to Redis: ${messageOf(error)}`, error));
  };

  readonly #onSubscriberError = (): void => {
    // The subscriber reconnects by itself; missed groups are read back on `ready` (#recover).
  };

  readonly #onSubscriberReady = (): void => {
    if (this.#subscriberWasReady) void this.#recover();
    this.#subscriberWasReady = true;
  };
}

/** The liveness snapshot as script arguments: time, count, ids. */
function livenessArgs(liveness: Liveness): string[] {
  return [String(liveness.time), String(liveness.live.length), ...liveness.live];
}

/** The script's rule, for /stats: listed, or registered after the snapshot. */
function isLive(liveness: Liveness, owner: string): boolean {
  if (liveness.live.includes(owner)) return true;
  const dash = owner.indexOf('-');
  return dash > 0 && parseInt(owner.slice(0, dash), 36) >= liveness.time;
}

/** An error answered by Redis itself (the command ran, or was refused, but the connection is fine). */
function isRedisReply(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof CommandTimeoutError) return false;
  const kind = err.constructor.name;
  return kind === 'ErrorReply' || kind === 'ReplyError' || kind === 'SimpleError' || kind === 'BlobError';
}

/** Resolves on the client's next `ready`, rejects after `ms`; leaves no listener or timer behind either way. */
function readyWithin(client: RedisClientLike, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve();
    };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new CommandTimeoutError(`the pub/sub connection was not ready within ${ms}ms`));
    }, ms);
    client.on('ready', onReady);
  });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
