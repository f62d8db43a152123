// The Redis store: pending requests and atomic matching in Redis, so app instances sharing it meet each other.
//
// Key layout (redis/keys.ts). Every name starts with `<prefix>v3:` (v3: the record format, which gained the
// stage and spec-keyed buckets; a change of format bumps it, so two formats never share keys). Every key of
// one event carries the hash tag `{<event as base64url>}`, so each script call touches one cluster slot. With
// B = `<prefix>v3:{tag}:`, and <spec> a bucket's spec key (`N` for an exact count, `MIN..MAX~LINGERMS` for a range):
//   B reqs               HASH  id → `owner\nseq\nclass\nstage\njson`: the pending records (json is the request
//                              as sent, what mates receive; class and stage are the current ones)
//   B seq                arrival counter of the event (deleted when the event has no record)
//   B q:<class>          ZSET  id → seq: one class's FIFO (requests interchangeable for compatibility); a request
//                              moved to a later stage's class keeps its seq, so its place in the arrival order
//   B cls                HASH  class → {labels, family, spec}
//   B fam                HASH  family → {requirements, anchor}: a family is the classes of one (event, spec)
//                              that share a selector, as in MemoryStore
//   B fx:<spec>:<k>=<v>  SET   families whose anchor (an `=`/`in` requirement) accepts label k=v
//   B fu:<spec>          SET   families without an anchor
//   B pz:<spec>          ZSET  id → seq, range buckets: requests that were in a possible group of MIN+1 when
//                              filed; every possible group holds one, so window searches start from these
//   B fc:<family>        ZSET  class → seq of its oldest request: the family's classes
//   B fl:<family>:<k>=<v> ZSET the same, only classes labelled k=v
//   B win                HASH  spec → `<deadline (server ms)>:<witness ids JSON>`: the bucket's open linger window
//                              and one group of MIN+1 known possible; a range bucket has a window exactly
//                              while such a group is (only losing a witness member triggers a new search)
//   B own:<instance>     SET   ids of one owner, and B owners (SET) the owners: for the sweep
//   B res:<id>           the group a request joined (kept until its owner read it, at most resultTtlMs), or
//                        an empty tombstone once withdrawn or read (so a late or repeated offer never enters)
// Global keys, never touched by an event script: `<prefix>v3:instances` (ZSET instance → lease expiry, server
// ms) and `<prefix>v3:events` (ZSET event → when an offer last made it non-empty, server µs; an event is
// dropped when a script reports it empty, unless announced again since, and by the sweep); pub/sub channel
// `<prefix>v3:inst:<instance>` per instance, carrying groups and linger-window notices. Redis memory per
// waiting request is its record plus a few index entries; no state grows with pairs of requests.
//
// Scripts (redis/lua.ts, redis/groups.ts): OFFER (idempotent by id: a pending id keeps its place and takes the
// caller as owner, a settled id answers its group or tombstone; with a later stage than its record, it moves
// the request to its new class keeping its seq and searches again: the same script serves update()),
// WITHDRAW (idempotent, leaves a tombstone, re-checks a window whose witness group it broke), SWEEP (purges
// dead owners' records of one event, bounded, and re-checks the windows it broke), CLOSE (closes an ended window:
// largest group, then the next window), LIST (one HSCAN page of records), CONSUME (results read →
// tombstones), REGISTRY (register, refresh, leave, peek) and EVENTS (page; update: announce events, drop empty
// ones unless announced since — batched per turn of the event loop).
//
// Mate ranges (MIN..MAX). An arrival (or a stage change) that completes a group of MAX+1 forms it at once;
// one that makes a group of MIN+1 possible opens the bucket's window, its deadline now + linger on Redis's
// clock. The opener's reply and a notice to the owners of the possible group's members carry the deadline;
// later arrivals get it in their reply, and every renewal asks for it (CLOSE on each bucket with a range
// waiter here), so every instance owning a member sets a wake-up. At the deadline each calls CLOSE; only the
// first finds the window ended and forms the largest group (MAX+1 down to MIN+1 members, oldest first), then
// opens a fresh window if a group of MIN+1 remains possible. A call before the deadline learns it; a second
// call finds no window. Local timers only say when to ask.
//
// An arrival looks only at families whose anchor its labels meet (or that have none), and inside them only at
// classes carrying the label value its own anchor requires, in the order of their oldest request; a pair stops
// at the first acceptable class. So waiters that cannot accept a newcomer cost it nothing.
//
// Clocks. Lease expiries, deadlines and the events index use Redis's clock (TIME inside scripts). Each
// instance renews its lease every leaseMs/3, on a connection of its own (so a backlog of offers never delays
// a renewal), and keeps the registry's answer (Redis's time and every lease) as
// a snapshot, which event scripts receive as an argument, since the registry is in another slot. A listed
// owner is live; an unlisted one that registered before the snapshot (ids start with their registration time)
// lapsed and its records are purged; the window in which a dead instance's record can still be matched is
// one snapshot's age. Local timers only schedule work: renewal, the sweep and retries.
//
// Redis Cluster (redis/cluster.ts): a cluster client is wrapped so each script goes to the master of its first
// key's slot (the records key, or a result key of the same event), never following ASK; the writing scripts
// start with a slot guard that ends them before any write on a slot that is migrating. Such a refusal, like
// MOVED or a master that is not connected, means the command did not run: a NotSentError, as when Redis is
// away. Groups use classic pub/sub, which a cluster forwards to every node.
//
// Lost vs uncertain. A command with no answer (slow Redis, broken connection) leaves its request uncertain,
// not lost: the caller keeps waiting, the instance keeps its id, and on `ready` (and every renewal) the offer
// is sent again — idempotent, it reports the group the request joined meanwhile, confirms it pending, or
// enters it. A caller gets an error only when its request is certainly in no group: its offer was never sent
// (Redis down: new requests fail at once, and while a command has had no answer for commandTimeoutMs), or a
// withdrawal confirmed it. An instance whose lease lapsed registers anew and re-offers every waiter under the
// new id (a record still pending keeps its place). Results are written for every member, the offering
// instance's own included, so any uncertainty is settled by reading them; pub/sub only makes it fast. Every
// re-offer carries the waiter's latest stage and class, so a widening made while uncertain is never lost: a
// record found at an earlier stage is moved then, as update() would have.
import { randomBytes } from 'node:crypto';
import { errors, type NetsyncError } from '../errors';
import { GROUP_SEARCH_BUDGET, isRange, specKeyOf } from './matching';
import { NotSentError, type RedisClientLike } from './redis/client';
import { clusterClient, isClusterClient, slotGuarded, type RedisClusterLike } from './redis/cluster';
import {
  classId, decodeGroup, decodeRecord, decodeWindowNotice, encodeClass, encodeFamily, encodeRequest, familyId, isWindowNotice,
  type CurrentClass,
} from './redis/codec';
import { checkPrefix, eventsKey, instanceChannel, recordsKey, registryKey, resultKey } from './redis/keys';
import { isListed, livenessJson, livenessOf, type Liveness } from './redis/liveness';
import { CLOSE_LUA, CONSUME_LUA, EVENTS_LUA, LIST_LUA, OFFER_LUA, REGISTRY_LUA, SWEEP_LUA, WITHDRAW_LUA } from './redis/lua';
import { CommandTimeoutError, isRedisReply, LuaScript, runScript, withTimeout } from './redis/script';
import { WindowTimers } from './redis/windows';
import type {
  LostListener, MatcherStore, MatchListener, PendingRequest, PendingSnapshot, StageChange, WindowListener,
} from './types';

export type { RedisClientLike, ScriptCall } from './redis/client';
export type { ClusterNodeLike, RedisClusterLike } from './redis/cluster';

/** Options of `new RedisStore(...)`. */
export interface RedisStoreOptions {
  /**
   * A connected client: a single client (`createClient()`) or a cluster client (`createCluster()`). The store
   * duplicates it twice (pub/sub, and the instance registry) and never closes it.
   */
  client: RedisClientLike | RedisClusterLike;
  /** Key and channel prefix. Default `netsync:`. */
  prefix?: string;
  /** Instance lease in ms: how long the records of a vanished instance stay matchable at most. Default 5000. */
  leaseMs?: number;
  /**
   * When a command has waited this long and no answer at all came meanwhile, Redis counts as unreachable for
   * new requests (they fail at once until an answer comes); also bounds registration and renewal. Default 2000.
   */
  commandTimeoutMs?: number;
  /** Safety TTL of a formed group's result for a member whose owner has not read it yet. Default one hour. */
  resultTtlMs?: number;
}

/** An offer that reaches Redis later than this after it was sent is refused, never entered. */
const OFFER_DELAY_LIMIT_MS = 15_000;
/** Tombstones outlive any offer still allowed to run (see OFFER_DELAY_LIMIT_MS), with room for clock estimates. */
const TOMBSTONE_TTL_MS = 4 * OFFER_DELAY_LIMIT_MS;
/** Events the sweep looks at per renewal, and dead records it purges at most. */
const SWEEP_EVENTS_PER_TICK = 16;
const SWEEP_RECORDS_PER_TICK = 500;
/** Records per /stats read, and events read at once. */
const LIST_PAGE = 1000;
const LIST_CONCURRENCY = 8;
/** Results read are marked so within this delay, or sooner by the next offer to their event. */
const CONSUME_DELAY_MS = 200;
/** Re-offers sent at once after an outage or a lapsed lease. */
const RESEND_BATCH = 100;
/** Encoded class data kept for reuse, at most. */
const CLASS_CACHE_LIMIT = 10_000;

const OFFER = new LuaScript(slotGuarded(OFFER_LUA));
const WITHDRAW = new LuaScript(slotGuarded(WITHDRAW_LUA));
const SWEEP = new LuaScript(slotGuarded(SWEEP_LUA));
const LIST = new LuaScript(LIST_LUA);
const CONSUME = new LuaScript(slotGuarded(CONSUME_LUA));
const REGISTRY = new LuaScript(REGISTRY_LUA);
const EVENTS = new LuaScript(EVENTS_LUA);
const CLOSE = new LuaScript(slotGuarded(CLOSE_LUA));

/** One local registration: the instance id, its pub/sub channel and the last liveness snapshot. */
interface Instance {
  readonly id: string;
  readonly channel: string;
  liveness: Liveness;
  /** Local clock when `liveness` was read, to estimate Redis's clock for deadlines. */
  readAt: number;
}

/** A caller of this process waiting on Redis: `sent` (an offer on its way), `pending`, or `uncertain` (to re-offer). */
interface LocalWaiter {
  readonly req: PendingRequest;
  state: 'sent' | 'pending' | 'uncertain';
  /** Its latest stage, selector and class: every (re-)offer carries them, so a re-offer never loses a widening. */
  current: CurrentClass;
}

/** The OFFER script's reply: a group, or pending (with the bucket's window deadline, if one is open). */
type OfferReply =
  | [kind: 'group' | 'settled', message: string, emptyAt?: string]
  | [kind: 'pending', first: string, deadline: string, now: string, opened: string]
  | [kind: 'late' | 'withdrawn' | 'absent'];

/** What the matcher needs of a class, encoded once per class key. */
interface ClassData {
  readonly c: string;
  readonly f: string;
  readonly cls: string;
  readonly fam: string;
}

/**
 * A MatcherStore in Redis for several app instances (ARCHITECTURE.md, the hub and its stores): the same rules as MemoryStore, applied
 * atomically by one Lua script per offer; groups reach their members' instances over pub/sub and through
 * result keys; records of an instance whose lease lapsed are never matched and are swept.
 */
export class RedisStore implements MatcherStore {
  readonly supportsRanges = true;
  readonly #client: RedisClientLike;
  readonly #subscriber: RedisClientLike;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #resultTtlMs: number;
  readonly #channelPrefix: string;
  readonly #local = new Map<string, LocalWaiter>();
  /** Waiters whose last offer got no answer: re-offered on `ready` and at each renewal. */
  readonly #uncertain = new Set<string>();
  /** Withdrawals that got no answer (id → event): retried until one does. */
  readonly #withdrawing = new Map<string, string>();
  /** Events whose index entry may be missing (a touch failed): touched again at the next renewal. */
  readonly #retouch = new Set<string>();
  /** Index updates waiting for the next flush: events to announce, and events found empty (→ when, server µs). */
  readonly #touching = new Set<string>();
  readonly #pruning = new Map<string, string>();
  #indexFlush: Promise<void> | undefined;
  /** Results read here, by event, not yet marked read in Redis (see #consume). */
  readonly #consumable = new Map<string, string[]>();
  #consumeTimer: NodeJS.Timeout | undefined;
  readonly #matchListeners: MatchListener[] = [];
  readonly #lostListeners: LostListener[] = [];
  readonly #windowListeners: WindowListener[] = [];
  /** Wake-ups at the deadlines of linger windows with members here. */
  readonly #windows = new WindowTimers((event, spec) => void this.#closeWindow(event, spec));
  /** Ids this process gave up (lease lapsed); the next registration removes them from the registry. */
  readonly #abandoned: string[] = [];
  /** Channels of abandoned ids, unsubscribed once the waiters moved to the new id. */
  readonly #staleChannels: string[] = [];
  /** Commands without an answer yet: token → local start time (insertion order: oldest first). */
  readonly #inFlight = new Map<number, number>();
  /** Local time of the last answer (or failure) of a command on the offers' connection. */
  #answeredAt = 0;
  readonly #classes = new Map<string, ClassData>();
  readonly #timer: NodeJS.Timeout;
  readonly #subscriberReady: Promise<void>;
  /** A connection of its own for the registry, so renewals never queue behind thousands of offers. */
  readonly #control: RedisClientLike;
  readonly #controlReady: Promise<void>;
  #nextToken = 0;
  #instance: Instance | undefined;
  #registering: Promise<Instance> | undefined;
  #ticking = false;
  #tickAgain = false;
  #repairing = false;
  #closed = false;
  /**
   * How often the subscriber has been ready. A group published while it was away reaches nobody here, so each
   * comeback re-offers the pending waiters, and an offer in flight across one is not taken as pending (#send).
   */
  #subscriberReadies = 0;
  #sweepCursor = '0';

  constructor(options: RedisStoreOptions) {
    const { prefix = 'netsync:', leaseMs = 5000, commandTimeoutMs = 2000, resultTtlMs = 3_600_000 } = options;
    if (typeof options.client !== 'object' || options.client === null || typeof options.client.duplicate !== 'function') {
      throw new TypeError('RedisStore: option client must be a connected Redis client (node-redis createClient() or createCluster())');
    }
    // A cluster routes each script to its slot's master itself; everything else is the same.
    const client = isClusterClient(options.client) ? clusterClient(options.client) : options.client;
    checkPrefix(prefix);
    if (!Number.isSafeInteger(leaseMs) || leaseMs < 30) {
      throw new TypeError(`RedisStore: option leaseMs must be an integer of at least 30, got ${String(leaseMs)}`);
    }
    if (!Number.isSafeInteger(commandTimeoutMs) || commandTimeoutMs < 1) {
      throw new TypeError(`RedisStore: option commandTimeoutMs must be a positive integer, got ${String(commandTimeoutMs)}`);
    }
    if (!Number.isSafeInteger(resultTtlMs) || resultTtlMs < 1000) {
      throw new TypeError(`RedisStore: option resultTtlMs must be an integer of at least 1000, got ${String(resultTtlMs)}`);
    }
    this.#client = client;
    this.#prefix = prefix;
    this.#leaseMs = leaseMs;
    this.#timeoutMs = commandTimeoutMs;
    this.#resultTtlMs = resultTtlMs;
    this.#channelPrefix = instanceChannel(prefix, '');
    this.#subscriber = client.duplicate();
    this.#subscriber.on('error', this.#onSubscriberError);
    this.#subscriber.on('ready', this.#onSubscriberReady);
    this.#client.on('error', this.#onClientError);
    this.#client.on('ready', this.#onClientReady);
    this.#subscriberReady = this.#subscriber.connect().then(() => undefined);
    this.#subscriberReady.catch(() => undefined);
    this.#control = client.duplicate();
    this.#control.on('error', this.#onSubscriberError);
    this.#control.on('ready', this.#onClientReady);
    this.#controlReady = this.#control.connect().then(() => undefined);
    this.#controlReady.catch(() => undefined);
    this.#timer = setInterval(() => void this.#tick(), Math.max(10, Math.floor(leaseMs / 3)));
    this.#timer.unref();
    // Register early so the first offer does not pay for it; a failure here is retried by that offer.
    this.#register().catch(() => undefined);
  }

  /**
   * Match `req` now with pending requests of every instance, or keep it pending. Rejects only when the
   * request certainly entered no group: Redis unreachable before it was sent, or it refused the request.
   */
  async offer(req: PendingRequest): Promise<void> {
    if (this.#closed) throw errors.shuttingDown();
    if (!this.#reachable()) throw unreachable(new Error('Redis is not connected or not answering'));
    const instance = await this.#register();
    if (this.#closed) throw errors.shuttingDown();
    const waiter: LocalWaiter = { req, state: 'sent', current: { stage: 0, selector: req.selector, classKey: req.classKey } };
    this.#local.set(req.id, waiter);
    const failure = await this.#send(waiter, instance, true);
    if (failure !== undefined) throw failure;
  }

  /** Withdraw a local pending request; false if a group already took it (or it is unknown here). */
  async withdraw(id: string): Promise<boolean> {
    const waiter = this.#local.get(id);
    if (waiter === undefined) return false;
    this.#local.delete(id);
    this.#uncertain.delete(id);
    return this.#withdrawRemote(id, waiter.req.params.event);
  }

  /**
   * Move a local waiter to a later widening stage (its new class, its original place in the arrival order)
   * and search for a group it completes now. A change that gets no answer leaves the waiter uncertain: its
   * re-offer carries the latest stage, so the change is applied then.
   */
  async update(id: string, change: StageChange): Promise<boolean> {
    const waiter = this.#local.get(id);
    if (waiter === undefined) return false;
    if (change.stage <= waiter.current.stage) return true;
    waiter.current = { stage: change.stage, selector: change.selector, classKey: change.classKey };
    const instance = this.#instance;
    if (waiter.state === 'uncertain' || instance === undefined) return true;
    const event = waiter.req.params.event;
    let reply: OfferReply;
    try {
      reply = (await this.#run(OFFER, [recordsKey(this.#prefix, event)], [this.#offerOptions(waiter, instance, 'update')])) as OfferReply;
    } catch {
      if (this.#local.get(id) === waiter) this.#markUncertain(waiter);
      return this.#local.has(id);
    }
    switch (reply[0]) {
      case 'group':
        this.#prune(event, reply[2]);
        this.#deliver(reply[1]);
        return true;
      case 'settled':
        this.#deliver(reply[1]);
        return false;
      case 'pending':
        this.#pendingReply(waiter, reply);
        return true;
      case 'absent':
        // Not in Redis and never settled: its offer is still to arrive (or its lapsed record was purged).
        if (this.#local.get(id) === waiter) this.#markUncertain(waiter);
        return this.#local.has(id);
      default:
        return false;
    }
  }

  /** Subscribe to groups that include a member of this process (each group is reported once). */
  onMatch(listener: MatchListener): void {
    this.#matchListeners.push(listener);
  }

  /** Subscribe to linger windows that opened with members of this process (for logs). */
  onWindow(listener: WindowListener): void {
    this.#windowListeners.push(listener);
  }

  /** Subscribe to local waiters the store gave up on (a re-offer Redis refused, confirmed in no group). */
  onLost(listener: LostListener): void {
    this.#lostListeners.push(listener);
  }

  /** Every live pending request of every instance, oldest first; read in bounded pages. */
  async pending(): Promise<PendingSnapshot[]> {
    if (this.#closed) return [];
    try {
      const [registry, events] = await Promise.all([
        this.#registry(['peek']) as Promise<[string, string, string[]]>,
        this.#eventNames(),
      ]);
      const liveness = livenessOf(registry[1], registry[2]);
      const result: PendingSnapshot[] = [];
      const queue = [...events];
      const worker = async (): Promise<void> => {
        for (let event = queue.pop(); event !== undefined; event = queue.pop()) {
          let cursor = '0';
          do {
            const [next, flat] = (await this.#run(LIST, [recordsKey(this.#prefix, event)], [cursor, String(LIST_PAGE)])) as [string, string[]];
            for (let i = 1; i < flat.length; i += 2) {
              const record = decodeRecord(flat[i] as string);
              if (isListed(liveness, record.owner)) result.push(record.snapshot);
            }
            cursor = next;
          } while (cursor !== '0');
        }
      };
      await Promise.all(Array.from({ length: LIST_CONCURRENCY }, worker));
      return result.sort((a, b) => a.createdAt - b.createdAt);
    } catch (err) {
      throw unreachable(err);
    }
  }

  /**
   * Withdraw this process's waiters, leave the registry, stop the timer and close the pub/sub connection.
   * The caller's own client stays open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#windows.clear();
    clearTimeout(this.#consumeTimer);
    this.#consumeTimer = undefined;
    this.#client.off('error', this.#onClientError);
    this.#client.off('ready', this.#onClientReady);
    const waiting = [...this.#local].map(([id, waiter]) => [id, waiter.req.params.event] as const);
    this.#local.clear();
    this.#uncertain.clear();
    const instance = this.#instance;
    this.#instance = undefined;
    if (this.#client.isReady) {
      const farewell: Promise<unknown>[] = [...waiting, ...this.#withdrawing].map(([id, event]) => this.#withdrawRemote(id, event, instance));
      if (instance !== undefined) farewell.push(this.#registry(['leave', instance.id]));
      for (const [event, ids] of this.#consumable) {
        farewell.push(this.#run(CONSUME, ids.map((id) => resultKey(this.#prefix, event, id)), [String(TOMBSTONE_TTL_MS)]));
      }
      this.#consumable.clear();
      await withTimeout(Promise.allSettled(farewell), this.#timeoutMs).catch(() => undefined);
    }
    await this.#registering?.catch(() => undefined);
    this.#subscriber.off('ready', this.#onSubscriberReady);
    this.#control.off('ready', this.#onClientReady);
    await Promise.all([closeOwn(this.#subscriber, this.#subscriberReady, this.#timeoutMs), closeOwn(this.#control, this.#controlReady, this.#timeoutMs)]);
    this.#subscriber.off('error', this.#onSubscriberError);
    this.#control.off('error', this.#onSubscriberError);
  }

  /** Connected, and no command has waited longer than commandTimeoutMs for its answer. */
  #reachable(): boolean {
    if (!this.#client.isReady) return false;
    // Stalled: the oldest command has waited longer than the timeout and no answer came meanwhile. A long
    // backlog that Redis is working through keeps answering, and is not a stall.
    const now = Date.now();
    for (const started of this.#inFlight.values()) return now - started <= this.#timeoutMs || now - this.#answeredAt <= this.#timeoutMs;
    return true;
  }

  /**
   * Offer (or re-offer) a local waiter. Returns an error only when the request is certainly in no group and
   * is no longer local; otherwise it is pending, delivered, or left uncertain for a later re-offer.
   */
  async #send(waiter: LocalWaiter, instance: Instance, first: boolean): Promise<NetsyncError | undefined> {
    const { req } = waiter;
    waiter.state = 'sent';
    const readies = this.#subscriberReadies;
    let reply: OfferReply;
    try {
      reply = (await this.#run(OFFER, [recordsKey(this.#prefix, req.params.event)], [
        this.#offerOptions(waiter, instance, 'offer'),
        encodeRequest(req),
      ])) as OfferReply;
    } catch (err) {
      if (this.#local.get(req.id) !== waiter) return undefined;
      if (first && err instanceof NotSentError) {
        this.#local.delete(req.id);
        return unreachable(err);
      }
      if (isRedisReply(err)) return this.#settleRefused(waiter, err);
      this.#markUncertain(waiter);
      return undefined;
    }
    const kind = reply[0];
    if (kind === 'group') {
      this.#prune(req.params.event, reply[2]);
      this.#deliver(reply[1]);
    } else if (kind === 'pending') {
      if (this.#local.get(req.id) === waiter && waiter.state === 'sent') {
        // The subscriber came back while this offer was out: the re-offer on its `ready` passed this waiter by,
        // and a group it joined before then was published to nobody. Uncertain, so the next renewal asks again.
        if (readies === this.#subscriberReadies) waiter.state = 'pending';
        else this.#markUncertain(waiter);
      }
      this.#pendingReply(waiter, reply);
      // Announced after the record exists, so a sweep that saw the event empty cannot drop it unseen.
      if (reply[1] === 'first') await this.#touch(req.params.event);
    } else if (kind === 'late') {
      if (this.#local.get(req.id) === waiter) this.#markUncertain(waiter);
    } else if (this.#local.get(req.id) === waiter) {
      // A tombstone: withdrawn or read before, so certainly in no group now.
      this.#local.delete(req.id);
      return unreachable(new Error(`offer answered ${kind}`));
    }
    return undefined;
  }

  /** Redis answered the offer with an error: withdraw it to be certain where it stands. */
  async #settleRefused(waiter: LocalWaiter, cause: unknown): Promise<NetsyncError | undefined> {
    const id = waiter.req.id;
    const event = waiter.req.params.event;
    let reply: [string, string?];
    try {
      reply = (await this.#run(WITHDRAW, [recordsKey(this.#prefix, event)], [id, String(TOMBSTONE_TTL_MS)])) as [string, string?];
    } catch {
      if (this.#local.get(id) === waiter) this.#markUncertain(waiter);
      return undefined;
    }
    if (reply[0] === 'group' && reply[1] !== undefined) {
      this.#deliver(reply[1]);
      return undefined;
    }
    if (this.#local.get(id) !== waiter) return undefined;
    this.#local.delete(id);
    return errors.storeUnavailable('Redis refused the request', cause);
  }

  #markUncertain(waiter: LocalWaiter): void {
    waiter.state = 'uncertain';
    this.#uncertain.add(waiter.req.id);
  }

  /** Withdraw in Redis; a withdrawal without an answer is retried until one comes. */
  async #withdrawRemote(id: string, event: string, instance = this.#instance): Promise<boolean> {
    let reply: [string, string?];
    try {
      reply = (await this.#run(WITHDRAW, [recordsKey(this.#prefix, event)], this.#withdrawArgs(id, instance))) as [string, string?];
    } catch (err) {
      if (!this.#closed) this.#withdrawing.set(id, event);
      throw unreachable(err);
    }
    this.#withdrawing.delete(id);
    if (reply[0] === 'removed') this.#prune(event, reply[1]);
    if (reply[0] !== 'group') return true;
    // A group took it first. The hub is told before "false", so a caller still waiting (a timeout, a
    // shutdown) gets that group, as its mates do, rather than an error.
    if (reply[1] === undefined || reply[1] === '') this.#consume(event, [id]);
    else this.#deliver(reply[1], id);
    return false;
  }

  /**
   * The offer's options, one JSON argument (class data encoded once per class): the waiter's current stage
   * and class. An `update` never enters a request, so it needs no deadline.
   */
  #offerOptions(waiter: LocalWaiter, instance: Instance, mode: 'offer' | 'update'): string {
    const { req, current } = waiter;
    let data = this.#classes.get(current.classKey);
    if (data === undefined) {
      if (this.#classes.size >= CLASS_CACHE_LIMIT) this.#classes.clear();
      data = { c: classId(current.classKey), f: familyId(req, current), cls: encodeClass(req, current), fam: encodeFamily(current) };
      this.#classes.set(current.classKey, data);
    }
    return JSON.stringify({
      id: req.id,
      owner: instance.id,
      c: data.c,
      f: data.f,
      s: specKeyOf(req.spec),
      st: current.stage,
      cls: data.cls,
      fam: data.fam,
      ev: JSON.stringify(req.params.event),
      ch: this.#channelPrefix,
      ttl: this.#resultTtlMs,
      ...(mode === 'offer' ? { dl: instance.liveness.time + (Date.now() - instance.readAt) + OFFER_DELAY_LIMIT_MS } : { mode }),
      budget: GROUP_SEARCH_BUDGET,
      live: livenessJson(instance.liveness, this.#leaseMs),
      done: this.#takeConsumable(req.params.event),
      tomb: TOMBSTONE_TTL_MS,
    });
  }

  /** WITHDRAW's arguments: with a liveness snapshot when there is one, so it can close a window left without a group. */
  #withdrawArgs(id: string, instance: Instance | undefined): string[] {
    if (instance === undefined) return [id, String(TOMBSTONE_TTL_MS)];
    return [id, String(TOMBSTONE_TTL_MS), JSON.stringify(livenessJson(instance.liveness, this.#leaseMs)), String(GROUP_SEARCH_BUDGET)];
  }

  /** A waiter is pending: wake up at its bucket's window deadline, and report a window that opened now. */
  #pendingReply(waiter: LocalWaiter, [, , deadline, now, opened]: [string, string, string, string, string]): void {
    if (deadline === '') return;
    const event = waiter.req.params.event;
    this.#windows.schedule(event, specKeyOf(waiter.req.spec), Number(deadline), Number(now));
    if (opened !== '') this.#windowOpened(event, JSON.parse(opened) as string[], Number(deadline), Number(now));
  }

  /** Tell onWindow listeners of a window whose possible group has members here. */
  #windowOpened(event: string, ids: readonly string[], deadline: number, now: number): void {
    const ours = ids.filter((id) => this.#local.has(id));
    const first = ours[0] === undefined ? undefined : this.#local.get(ours[0]);
    if (first === undefined || this.#windowListeners.length === 0) return;
    const window = { event, spec: first.req.spec, ids: ours, deadline: Date.now() + (deadline - now) };
    for (const listener of this.#windowListeners) {
      try {
        listener(window);
      } catch {
        // A log listener's failure changes nothing here.
      }
    }
  }

  /**
   * Ask Redis to close a bucket's window: it forms the largest group only if the window has ended (and opens
   * the next one if a group remains possible); an early call learns the real deadline. A call without an
   * answer is repeated by the next renewal (#closeWindows).
   */
  async #closeWindow(event: string, spec: string): Promise<void> {
    const instance = this.#instance;
    if (instance === undefined || this.#closed) return;
    let reply: [string, string?, string?, string?, string?, string?];
    try {
      reply = (await this.#run(CLOSE, [recordsKey(this.#prefix, event)], [JSON.stringify({
        s: spec,
        ev: JSON.stringify(event),
        owner: instance.id,
        ch: this.#channelPrefix,
        ttl: this.#resultTtlMs,
        budget: GROUP_SEARCH_BUDGET,
        live: livenessJson(instance.liveness, this.#leaseMs),
      })])) as typeof reply;
    } catch (err) {
      // Sent without an answer: a group may have formed with members here (the notices skip the caller), so
      // they become uncertain, and their re-offer reads their results.
      if (!(err instanceof NotSentError)) {
        for (const waiter of this.#local.values()) {
          if (waiter.state === 'pending' && waiter.req.params.event === event && specKeyOf(waiter.req.spec) === spec) this.#markUncertain(waiter);
        }
      }
      return;
    }
    const [kind, a = '', b = '', c = '', d = '', e = ''] = reply;
    if (kind === 'none') {
      this.#windows.cancel(event, spec);
    } else if (kind === 'open') {
      this.#windows.schedule(event, spec, Number(a), Number(b));
    } else if (kind === 'closed') {
      this.#prune(event, e);
      if (a !== '') this.#deliver(a);
      if (b !== '') {
        this.#windows.schedule(event, spec, Number(b), Number(c));
        this.#windowOpened(event, JSON.parse(d) as string[], Number(b), Number(c));
      }
    }
  }

  /**
   * The renewal's look at every bucket with a range waiter here: an overdue window (its timer lost, or its
   * opener gone) is closed, and an open one's deadline learnt (a window opened without telling this instance).
   */
  async #closeWindows(): Promise<void> {
    const buckets = new Map<string, [string, string]>();
    for (const { req, state } of this.#local.values()) {
      if (state !== 'pending' || !isRange(req.spec)) continue;
      const spec = specKeyOf(req.spec);
      buckets.set(`${spec}\n${req.params.event}`, [req.params.event, spec]);
    }
    await Promise.all([...buckets.values()].map(([event, spec]) => this.#closeWindow(event, spec)));
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
    const abandoned = this.#abandoned.splice(0);
    try {
      await withTimeout(Promise.all([this.#subscriberReady, this.#controlReady]), this.#timeoutMs);
      if (!this.#subscriber.isReady) await readyWithin(this.#subscriber, this.#timeoutMs);
      if (!this.#control.isReady) await readyWithin(this.#control, this.#timeoutMs);
      const suffix = randomBytes(6).toString('base64url');
      const readAt = Date.now();
      const [id, time, entries] = (await withTimeout(
        this.#registry(['register', suffix, String(this.#leaseMs), ...abandoned]),
        this.#timeoutMs,
      )) as [string, string, string[]];
      const channel = instanceChannel(this.#prefix, id);
      await withTimeout(this.#subscriber.subscribe(channel, this.#onMessage), this.#timeoutMs);
      if (this.#closed) {
        await this.#registry(['leave', id]).catch(() => undefined);
        throw errors.shuttingDown();
      }
      const instance: Instance = { id, channel, liveness: livenessOf(time, entries), readAt };
      this.#instance = instance;
      // Waiters of an abandoned id move to this one (those still pending keep their place).
      if (this.#local.size > 0) void this.#resend(instance, [...this.#local.values()]).then(() => this.#dropStaleChannels());
      else this.#dropStaleChannels();
      return instance;
    } catch (err) {
      this.#abandoned.unshift(...abandoned);
      if (this.#closed) throw errors.shuttingDown();
      throw unreachable(err);
    }
  }

  #dropStaleChannels(): void {
    for (const channel of this.#staleChannels.splice(0)) this.#subscriber.unsubscribe(channel).catch(() => undefined);
  }

  /**
   * Re-offer waiters (idempotent): reports groups formed meanwhile, confirms pending ones, enters the rest.
   * In batches, so new requests are not queued behind thousands of re-offers after an outage.
   */
  async #resend(instance: Instance, waiters: readonly LocalWaiter[]): Promise<void> {
    const lost: string[] = [];
    let error: NetsyncError | undefined;
    for (let i = 0; i < waiters.length && !this.#closed; i += RESEND_BATCH) {
      await Promise.all(waiters.slice(i, i + RESEND_BATCH).map(async (waiter) => {
        if (this.#local.get(waiter.req.id) !== waiter) return;
        this.#uncertain.delete(waiter.req.id);
        const failure = await this.#send(waiter, instance, false);
        if (failure !== undefined) {
          lost.push(waiter.req.id);
          error ??= failure;
        }
      }));
    }
    if (error !== undefined) for (const listener of this.#lostListeners) listener(lost, error);
  }

  /**
   * Every leaseMs/3 (and on `ready`): renew the lease (registering anew if it lapsed), then retry what got no
   * answer, and sweep a few events. Never fails a waiter: an unanswered renewal only waits for the next.
   */
  async #tick(): Promise<void> {
    if (this.#closed) return;
    if (this.#ticking) {
      this.#tickAgain = true;
      return;
    }
    this.#ticking = true;
    try {
      do {
        this.#tickAgain = false;
        await this.#renewAndRepair();
      } while (this.#tickAgain && !this.#closed);
    } finally {
      this.#ticking = false;
    }
  }

  async #renewAndRepair(): Promise<void> {
    if (!this.#control.isReady) return;
    let instance = this.#instance;
    try {
      if (instance === undefined) {
        if (this.#local.size === 0 && this.#withdrawing.size === 0) return;
        instance = await this.#register();
      } else {
        const readAt = Date.now();
        const reply = (await withTimeout(
          this.#registry(['refresh', instance.id, String(this.#leaseMs)]),
          this.#timeoutMs,
        )) as [string, string?, string[]?];
        if (this.#closed || this.#instance !== instance) return;
        if (reply[0] === 'lapsed') {
          this.#instance = undefined;
          this.#abandoned.push(instance.id);
          this.#staleChannels.push(instance.channel);
          instance = await this.#register();
        } else {
          instance.liveness = livenessOf(reply[1] ?? '0', reply[2] ?? []);
          instance.readAt = readAt;
        }
      }
    } catch {
      // Unanswered or refused: the next tick tries again; waiters stay as they are.
      return;
    }
    // Not awaited: renewals go on while the offers' connection works through a backlog.
    if (!this.#repairing && this.#client.isReady) {
      this.#repairing = true;
      void this.#repair(instance).finally(() => {
        this.#repairing = false;
      });
    }
  }

  /** Retry what got no answer (withdrawals, offers, index announcements), then sweep a few events. */
  async #repair(instance: Instance): Promise<void> {
    try {
      await Promise.all([...this.#withdrawing].map(([id, event]) => this.#withdrawRemote(id, event).catch(() => false)));
      const uncertain = [...this.#uncertain].map((id) => this.#local.get(id)).filter((w): w is LocalWaiter => w !== undefined);
      if (uncertain.length > 0) await this.#resend(instance, uncertain);
      for (const event of this.#retouch) {
        this.#retouch.delete(event);
        await this.#touch(event);
      }
      await this.#sweep(instance);
      await this.#closeWindows();
    } catch {
      // The next renewal starts the repair again.
    }
  }

  /**
   * Purge dead owners' records from a few events (a cursor over the events index, bounded work per tick) and
   * drop events left empty from the index, unless an offer touched them meanwhile.
   */
  async #sweep(instance: Instance): Promise<void> {
    const [cursor, flat] = (await this.#run(EVENTS, [eventsKey(this.#prefix)], [
      'page', this.#sweepCursor, String(SWEEP_EVENTS_PER_TICK),
    ])) as [string, string[]];
    this.#sweepCursor = cursor;
    const live = JSON.stringify(livenessJson(instance.liveness, this.#leaseMs));
    let budget = SWEEP_RECORDS_PER_TICK;
    for (let i = 0; i + 1 < flat.length && budget > 0; i += 2) {
      const event = flat[i] as string;
      const [purged, emptyAt] = (await this.#run(SWEEP, [recordsKey(this.#prefix, event)], [
        live, String(budget), String(GROUP_SEARCH_BUDGET),
      ])) as [number, string?];
      budget -= purged;
      if (emptyAt !== undefined) this.#prune(event, emptyAt);
    }
  }

  /** Drop an event found empty at `emptyAt` (server µs) from the index, unless an offer announced it since. */
  #prune(event: string, emptyAt: string | undefined): void {
    if (emptyAt === undefined || emptyAt === '') return;
    this.#pruning.set(event, emptyAt);
    this.#flushIndexSoon().catch(() => undefined);
  }

  /**
   * Announce `event` to the index after the offer that made it non-empty (so a sweep that saw it empty cannot
   * drop it unseen). Resolves once written; a failure is retried at the next renewal.
   */
  async #touch(event: string): Promise<void> {
    this.#touching.add(event);
    try {
      await this.#flushIndexSoon();
    } catch {
      this.#retouch.add(event);
    }
  }

  /** Index updates made in one turn of the event loop go to Redis as one command. */
  #flushIndexSoon(): Promise<void> {
    this.#indexFlush ??= new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        this.#indexFlush = undefined;
        const touching = [...this.#touching];
        const pruning = [...this.#pruning].flat();
        this.#touching.clear();
        this.#pruning.clear();
        this.#run(EVENTS, [eventsKey(this.#prefix)], ['update', String(touching.length), ...touching, ...pruning])
          .then(() => resolve(), reject);
      });
    });
    return this.#indexFlush;
  }

  /** Every event in the index, read in pages. */
  async #eventNames(): Promise<Set<string>> {
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, flat] = (await this.#run(EVENTS, [eventsKey(this.#prefix)], ['page', cursor, String(LIST_PAGE)])) as [string, string[]];
      for (let i = 0; i < flat.length; i += 2) names.add(flat[i] as string);
      cursor = next;
    } while (cursor !== '0');
    return names;
  }

  /** A registry operation, on the control connection (not tracked as in flight: it says nothing of the offers' connection). */
  async #registry(args: string[]): Promise<unknown> {
    // Right after construction the connection may still be coming up; later, not ready means not connected.
    if (!this.#control.isReady) await withTimeout(this.#controlReady, this.#timeoutMs);
    if (!this.#control.isReady) throw new NotSentError('not connected to Redis');
    return runScript(this.#control, REGISTRY, [registryKey(this.#prefix)], args);
  }

  /** Run a script, tracked as in flight; rejects with NotSentError at once when the client is not connected. */
  #run(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    if (!this.#client.isReady) return Promise.reject(new NotSentError('not connected to Redis'));
    const token = this.#nextToken++;
    this.#inFlight.set(token, Date.now());
    return runScript(this.#client, script, keys, args).finally(() => {
      this.#inFlight.delete(token);
      this.#answeredAt = Date.now();
    });
  }

  /**
   * Report a group once, if it has members waiting here, and mark their results read. `withdrawn` is a member
   * already taken off the local list by a withdrawal that found the group: it still counts as ours.
   */
  #deliver(message: string, withdrawn?: string): void {
    const group = decodeGroup(message);
    const ours: string[] = [];
    for (const { id } of group.members) {
      if (this.#local.delete(id) || id === withdrawn) {
        this.#uncertain.delete(id);
        ours.push(id);
      }
    }
    if (ours.length === 0) return;
    this.#consume(group.event, ours);
    for (const listener of this.#matchListeners) listener(group);
  }

  /**
   * Results read by their owner become tombstones (their TTL is the fallback if this fails). Deferred: the
   * next offer to the same event carries them (a busy event costs no extra command), else a timer sends them.
   */
  #consume(event: string, ids: readonly string[]): void {
    const queued = this.#consumable.get(event);
    if (queued === undefined) this.#consumable.set(event, [...ids]);
    else queued.push(...ids);
    this.#consumeTimer ??= setTimeout(() => {
      this.#consumeTimer = undefined;
      for (const [queuedEvent, queuedIds] of this.#consumable) {
        const keys = queuedIds.map((id) => resultKey(this.#prefix, queuedEvent, id));
        this.#run(CONSUME, keys, [String(TOMBSTONE_TTL_MS)]).catch(() => undefined);
      }
      this.#consumable.clear();
    }, CONSUME_DELAY_MS).unref();
  }

  /** Takes the results of `event` waiting to be marked read, for an offer to carry. */
  #takeConsumable(event: string): string[] | undefined {
    const ids = this.#consumable.get(event);
    if (ids !== undefined) this.#consumable.delete(event);
    return ids;
  }

  readonly #onMessage = (message: string): void => {
    try {
      if (isWindowNotice(message)) {
        const notice = decodeWindowNotice(message);
        this.#windows.schedule(notice.event, notice.spec, notice.deadline, notice.now);
        this.#windowOpened(notice.event, notice.ids, notice.deadline, notice.now);
        return;
      }
      this.#deliver(message);
    } catch {
      // Not a group message of ours; nothing waits on it.
    }
  };

  readonly #onClientError = (): void => {
    // The client reconnects by itself; commands that got no answer left their waiters uncertain (see #send).
  };

  readonly #onClientReady = (): void => {
    void this.#tick();
  };

  readonly #onSubscriberError = (): void => {
    // The subscriber reconnects by itself; groups published meanwhile are read back on `ready`.
  };

  readonly #onSubscriberReady = (): void => {
    if (this.#subscriberReadies++ > 0) {
      const instance = this.#instance;
      if (instance !== undefined) void this.#resend(instance, [...this.#local.values()].filter((w) => w.state === 'pending'));
    }
  };
}

/** The one client-facing error for an unreachable Redis; the detail stays in `cause` for server-side logs. */
function unreachable(cause: unknown): NetsyncError {
  return errors.storeUnavailable('Redis cannot be reached; retry shortly', cause);
}

/** Close a connection the store made; one that never came up (Redis away since start) is still retrying: destroy it. */
async function closeOwn(connection: RedisClientLike, connected: Promise<void>, timeoutMs: number): Promise<void> {
  try {
    await withTimeout(connected, timeoutMs);
    await withTimeout(connection.close(), timeoutMs);
  } catch {
    connection.destroy();
  }
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
