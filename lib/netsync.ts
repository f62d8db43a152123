// The rendezvous hub: owns this process's waiting callers and settles them when their store forms a group.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { errors, isNetsyncError, type NetsyncError } from './errors';
import { normalizeParams, type NormalizedRequest } from './params';
import type { Labels, Selector } from './selector/types';
import { Deadlines, type Timed } from './deadlines';
import { IdleMap } from './idle-map';
import { MemoryStore } from './stores/memory';
import type { Group, LingerWindow, MatcherStore, PendingRequest, StageChange } from './stores/types';
import type { JsonValue, Match, Member, SendParams, StatsEntry, StatsTree } from './types';

export interface NetsyncOptions {
  /** Where pending requests live. Default: a new MemoryStore. */
  store?: MatcherStore;
  /** Largest `mates` accepted. Default 64. */
  maxMates?: number;
  /** Most requests this hub lets wait at once; past it `overloaded`. Default 100000. */
  maxPending?: number;
}

export interface SendOptions {
  /** Aborting withdraws the request at once; the send rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Reject with `timeout` after this many milliseconds without a match. */
  timeoutMs?: number;
}

/**
 * Why a pending request left without a group: its signal `aborted` (or a cancel), its HTTP client
 * `disconnected`, its `timeout` passed, the hub `closed`, or the store `lost` it.
 */
export type WithdrawReason = 'aborted' | 'disconnected' | 'timeout' | 'closed' | 'lost';

/** A withdrawal its caller asked for: a cancel or abort, or an HTTP client that went away. */
type CallerLeft = 'aborted' | 'disconnected';

/** Lifecycle events, for logs and metrics. Only this hub's own requests emit `pending` and `withdrawn`. */
export interface NetsyncEvents {
  /** A request of this hub is waiting (emitted before the store sees it, so it precedes its `match`). */
  pending: [req: PendingRequest];
  /** A group with at least one member of this hub formed. */
  match: [group: Group, match: Match];
  /**
   * A linger window opened for a mates range (README, mate ranges), with requests of this hub in its
   * possible group (`reqs`); the group forms at `window.deadline` unless a full one forms first.
   */
  lingering: [reqs: readonly PendingRequest[], window: LingerWindow];
  /** A request of this hub moved to a widening stage (1-based index into `req.stages`). */
  widened: [req: PendingRequest, stage: number];
  /** A request of this hub left without a group (emitted once the store has been told). */
  withdrawn: [req: PendingRequest, reason: WithdrawReason];
  /**
   * A request was refused without waiting: bad params (4xx), or `overloaded` / `shutting_down` (503). The
   * router also reports here the requests it could not decode (an unreadable or too large body).
   */
  rejected: [error: unknown];
  /**
   * A listener of the events above threw. The hub carries on as if it had not; without a listener here
   * the exception is reported as a process warning instead.
   */
  error: [error: unknown];
}

/** The lifecycle events a listener may throw from; `error` is how they are reported. */
type LifecycleEvent = Exclude<keyof NetsyncEvents, 'error'>;

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long `stats()` waits for this hub's earlier store calls before reading anyway. Past it the answer
 * may still show a request that was just withdrawn or matched, which is better than no answer.
 */
const STATS_SETTLE_MS = 1000;

/**
 * Store calls started between two `stats()` (or `close()`) calls. `stats()` waits only for the calls
 * of the generations before it, so steady arrivals can never keep it waiting.
 */
class Generation {
  #open = 0;
  #idle: (() => void)[] = [];
  /** The generation before this one, until it has drained. */
  #previous: Generation | undefined;
  /** Counts a call as ended: passed as-is to `then`, so a call costs no closure. */
  readonly done = (): void => {
    if (--this.#open === 0) for (const resolve of this.#idle.splice(0)) resolve();
  };

  constructor(previous: Generation | undefined) {
    this.#previous = previous;
  }

  /** Counts a call as started. */
  start(): void {
    this.#open++;
  }

  /** Resolves once every call of this generation and of the ones before it has ended. */
  async drained(): Promise<void> {
    if (this.#open > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    const previous = this.#previous;
    if (previous !== undefined) {
      await previous.drained();
      this.#previous = undefined;
    }
  }
}

/** What every pending request of one class has in common. */
interface SharedClass {
  readonly labels: Labels;
  readonly selector: Selector;
  readonly selectorText: string;
  readonly classKey: string;
  /** Pending requests of this hub using it. */
  refs: number;
}

/**
 * Receives the outcome of a send made with `waitFor`: exactly one of its methods is called, at most once,
 * possibly before `waitFor` returns. Neither may throw.
 */
export interface SendSink {
  matched(match: Match): void;
  failed(error: unknown): void;
}

/** A send still waiting for its group. */
export interface PendingSend {
  /**
   * Withdraw it at once, as an abort would: the sink's `failed` hears `reason`; `withdrawn` says `why`
   * (default `aborted`). No-op once settled.
   */
  cancel(reason: unknown, why?: CallerLeft): void;
}

/** One caller waiting for its group. Kept small: it is the per-request cost of a long backlog. */
class Waiter implements PendingSend, Timed {
  /** Its place among the hub's timeouts (lib/deadlines.ts); no timer of its own. */
  deadline = 0;
  deadlinePrev: Timed | undefined = undefined;
  deadlineNext: Timed | undefined = undefined;
  deadlineQueue: unknown = undefined;
  /** The timer of the next widening stage; only a request with stages ever has one. */
  stageTimer: NodeJS.Timeout | undefined = undefined;
  /** The current widening stage (0 = its own selector). */
  stage = 0;
  /** The store's `offer` while in flight, so a withdrawal reaches the store after it. */
  offering: Promise<void> | undefined = undefined;
  /**
   * Set while a timeout or shutdown asks the store to withdraw the request. The caller is still there,
   * so the waiter stays registered: if a group took the request first, the caller gets that group.
   */
  ending = false;
  constructor(
    readonly owner: WaiterOwner,
    readonly req: PendingRequest,
    readonly sink: SendSink,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** The abort listener (an object listener, so no closure per request). */
  handleEvent(): void {
    this.owner.leave(this, 'aborted', this.signal?.reason);
  }

  cancel(reason: unknown, why: CallerLeft = 'aborted'): void {
    this.owner.leave(this, why, reason);
  }
}

/** The hub's private side that waiters call back into (one per hub, shared by its waiters). */
interface WaiterOwner {
  leave(waiter: Waiter, reason: CallerLeft | 'timeout', error: unknown): void;
  widen(waiter: Waiter): void;
}

function onTimeout(waiter: Waiter): void {
  waiter.owner.leave(waiter, 'timeout', errors.timeout(waiter.timeoutMs));
}

function onStage(waiter: Waiter): void {
  waiter.owner.widen(waiter);
}

/** A settled send needs no cancelling. */
const SETTLED: PendingSend = { cancel: () => undefined };

let waitOn: ((hub: Netsync, params: SendParams, timeoutMs: number | undefined, sink: SendSink) => PendingSend) | undefined;
let tellRejected: ((hub: Netsync, error: unknown) => void) | undefined;
let allCallsEnded: ((hub: Netsync) => Promise<void>) | undefined;

/**
 * Internal to the package (the router's path): `send` without a promise or an AbortSignal per request.
 * The outcome goes to `sink`; the returned handle cancels. Throws what `send` would reject with when the
 * request cannot wait at all (bad params, overloaded, shutting down). Returns undefined for a hub of another
 * copy of this package, whose private side this copy cannot reach: use its public `send` then.
 */
export function waitFor(hub: Netsync, params: SendParams, timeoutMs: number | undefined, sink: SendSink): PendingSend | undefined {
  return waitOn === undefined || !Netsync.owns(hub) ? undefined : waitOn(hub, params, timeoutMs, sink);
}

/**
 * Internal to the package: resolves once every store call `hub` started so far has ended, however long that
 * takes (`stats()` waits for them only within a bound). A hub of another copy of this package resolves at once.
 */
export function storeCallsEnded(hub: Netsync): Promise<void> {
  return allCallsEnded === undefined || !Netsync.owns(hub) ? Promise.resolve() : allCallsEnded(hub);
}

/**
 * Internal to the package (the router's path): report on `rejected` a request the router refused before it
 * reached the hub (a body it could not read). A hub of another copy of this package is left alone.
 */
export function reportRejected(hub: Netsync, error: unknown): void {
  if (tellRejected !== undefined && Netsync.owns(hub)) tellRejected(hub, error);
}

/**
 * The rendezvous hub (ARCHITECTURE.md): `send` waits for mates through a store; every member of a group
 * gets the same `Match`. Several routers, or a router and code, may share one hub.
 */
export class Netsync extends EventEmitter<NetsyncEvents> {
  /** Largest `mates` accepted. */
  readonly maxMates: number;
  /** Most requests this hub lets wait at once. */
  readonly maxPending: number;
  readonly #store: MatcherStore;
  readonly #waiters = new Map<string, Waiter>();
  /** Data shared by this hub's pending requests of one class, by class key; idle once no request uses it. */
  readonly #classes = new IdleMap<string, SharedClass>((shared) => shared.refs === 0);
  /** Store calls started since the last `stats()`; `stats()` and `close()` wait for the earlier ones. */
  #generation = new Generation(undefined);
  /** Unique per hub, so ids stay unique across processes sharing a store. */
  readonly #idPrefix = randomBytes(6).toString('base64url');
  #nextId = 0;
  #closing: Promise<void> | undefined;
  /**
   * Withdrawals still waiting for their own offer to finish. Later offers of this hub queue behind them:
   * otherwise a newcomer's offer could reach the store first and meet a request whose caller already left.
   */
  #withdrawals: Promise<void> | undefined;
  /** The waiters' timeouts: one timer per timeout length, not one per waiter (a backlog's timers cost every request). */
  readonly #deadlines = new Deadlines<Waiter>(onTimeout);
  readonly #owner: WaiterOwner = {
    leave: (waiter, reason, error) => this.#leave(waiter, reason, error),
    widen: (waiter) => this.#widen(waiter),
  };

  constructor(options: NetsyncOptions = {}) {
    super();
    const { maxMates = 64, maxPending = 100_000 } = options;
    const store: MatcherStore = options.store ?? new MemoryStore();
    if (!Number.isSafeInteger(maxMates) || maxMates < 0) {
      throw new TypeError(`netsync: option maxMates must be a non-negative integer, got ${String(maxMates)}`);
    }
    if (!(Number.isSafeInteger(maxPending) || maxPending === Infinity) || maxPending < 1) {
      throw new TypeError(`netsync: option maxPending must be a positive integer, got ${String(maxPending)}`);
    }
    if (!isMatcherStore(store)) {
      throw new TypeError('netsync: option store must implement MatcherStore (offer, withdraw, onMatch, pending, close)');
    }
    this.maxMates = maxMates;
    this.maxPending = maxPending;
    this.#store = store;
    store.onMatch((group) => this.#onGroup(group));
    store.onLost?.((ids, error) => this.#onLost(ids, error));
    store.onWindow?.((window) => this.#onWindow(window));
  }

  /** How many callers of this hub are waiting for mates. */
  get pendingCount(): number {
    return this.#waiters.size;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Wait for `mates` others to match. Rejects (never throws) with `bad_request`/`invalid_selector` for bad
   * params, `timeout`, `overloaded`, `shutting_down`, `store_unavailable`, or the signal's reason when aborted.
   */
  send(params: SendParams, options: SendOptions = {}): Promise<Match> {
    try {
      return this.#send(params, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #send(params: SendParams, { signal, timeoutMs }: SendOptions): Promise<Match> {
    let sink: SendSink | undefined;
    const result = new Promise<Match>((resolve, reject) => {
      sink = { matched: resolve, failed: reject };
    });
    this.#wait(params, timeoutMs, sink as SendSink, signal);
    return result;
  }

  static {
    waitOn = (hub, params, timeoutMs, sink) => hub.#wait(params, timeoutMs, sink, undefined);
    tellRejected = (hub, error) => hub.#tell('rejected', error);
    allCallsEnded = (hub) => hub.#settled(Infinity);
  }

  /** Whether `hub` is a hub of this copy of the package (so its private side is reachable). */
  static owns(hub: unknown): hub is Netsync {
    return typeof hub === 'object' && hub !== null && #waiters in hub;
  }

  /** The one way in for `send` and `waitFor`; a request that cannot wait at all is told on `rejected`. */
  #wait(params: SendParams, timeoutMs: number | undefined, sink: SendSink, signal: AbortSignal | undefined): PendingSend {
    try {
      return this.#register(params, timeoutMs, sink, signal);
    } catch (error) {
      // A signal aborted before the call is the caller's own cancel, not a refusal.
      if (!(signal?.aborted === true && error === signal.reason)) this.#tell('rejected', error);
      throw error;
    }
  }

  /** Register a waiter and offer its request to the store. */
  #register(params: SendParams, timeoutMs: number | undefined, sink: SendSink, signal: AbortSignal | undefined): PendingSend {
    if (this.#closing !== undefined) throw errors.shuttingDown();
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs >= 0)) {
      throw errors.badRequest(`timeout must be a non-negative number of milliseconds, got ${String(timeoutMs)}`);
    }
    const normalized = normalizeParams(params, { maxMates: this.maxMates });
    if (signal?.aborted) throw signal.reason;
    const id = `${this.#idPrefix}${(this.#nextId++).toString(36)}`;
    if (normalized.spec.max === 0) {
      const { params: own, selector, classKey, spec, stages } = normalized;
      sink.matched(this.#alone({ id, params: own, selector, classKey, spec, stages, createdAt: Date.now() }));
      return SETTLED;
    }
    this.#checkSupported(normalized);
    if (this.#waiters.size >= this.maxPending) throw errors.overloaded(this.maxPending);
    const req = this.#share(id, normalized);

    const waiter = new Waiter(this.#owner, req, sink, timeoutMs ?? Infinity, signal);
    // Registered before the store sees the request: a store may form the group inside `offer`.
    this.#waiters.set(req.id, waiter);
    signal?.addEventListener('abort', waiter);
    // Longer than a timer can count (about 24.8 days) is as good as no timeout.
    if (timeoutMs !== undefined && timeoutMs <= MAX_TIMER_MS) this.#deadlines.add(waiter, timeoutMs);
    this.#scheduleStage(waiter);
    this.#tell('pending', req);
    const generation = this.#generation;
    generation.start();
    const barrier = this.#withdrawals;
    // A request that left while queued is never offered: the store could otherwise match it at once.
    const offered = barrier === undefined
      ? this.#offer(req)
      : barrier.then(() => (this.#waiters.get(req.id) === waiter ? this.#offer(req) : undefined));
    const offering = offered.then(
      () => {
        waiter.offering = undefined;
        generation.done();
      },
      (err: unknown) => {
        waiter.offering = undefined;
        generation.done();
        this.#fail(waiter, 'lost', isNetsyncError(err) ? err : errors.storeUnavailable(messageOf(err), err));
      },
    );
    if (this.#waiters.has(req.id)) waiter.offering = offering;
    return waiter;
  }

  /** Time the waiter's next widening stage from its arrival (this hub's clock: it saw the arrival). */
  #scheduleStage(waiter: Waiter): void {
    const next = waiter.req.stages[waiter.stage];
    if (next === undefined) return;
    const delay = Math.max(0, waiter.req.createdAt + next.afterMs - Date.now());
    // Longer than a timer can count is a stage never reached (the request cannot wait that long anyway).
    if (delay <= MAX_TIMER_MS) waiter.stageTimer = setTimeout(onStage, delay, waiter);
  }

  /**
   * The waiter's next stage is due: the store re-checks its request with the stage's selector, keeping its
   * place in the arrival order. After its own offer and after any withdrawal on its way, like an offer.
   */
  #widen(waiter: Waiter): void {
    waiter.stageTimer = undefined;
    if (this.#waiters.get(waiter.req.id) !== waiter || waiter.ending) return;
    const stage = waiter.stage + 1;
    const target = waiter.req.stages[stage - 1];
    const update = this.#store.update;
    if (target === undefined || update === undefined) return;
    waiter.stage = stage;
    this.#scheduleStage(waiter);
    const change: StageChange = { stage, selector: target.selector, selectorText: target.selectorText, classKey: target.classKey };
    const id = waiter.req.id;
    const before = [waiter.offering, this.#withdrawals].filter((p) => p !== undefined);
    const send = (): Promise<boolean> => {
      try {
        return update.call(this.#store, id, change);
      } catch (err) {
        return Promise.reject(err);
      }
    };
    const updating = before.length === 0 ? send() : Promise.all(before).then(send);
    this.#track(updating);
    updating.then(
      (pending) => {
        if (pending && this.#waiters.get(id) === waiter) this.#tell('widened', waiter.req, stage);
      },
      (err: unknown) => {
        if (waiter.ending) return;
        this.#fail(waiter, 'lost', isNetsyncError(err) ? err : errors.storeUnavailable(messageOf(err), err));
      },
    );
  }

  /** A store that predates ranges or widening cannot serve them: refused, rather than matched by other rules. */
  #checkSupported({ spec, stages }: NormalizedRequest): void {
    if (spec.min < spec.max && this.#store.supportsRanges !== true) {
      throw errors.badRequest('this netsync store does not support mates ranges (MIN..MAX); send an exact count');
    }
    if (stages.length > 0 && typeof this.#store.update !== 'function') {
      throw errors.badRequest('this netsync store does not support widen; send the request without it');
    }
  }

  /** The store's offer, as a promise even if the store throws. */
  #offer(req: PendingRequest): Promise<void> {
    try {
      return this.#store.offer(req);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The request, with labels, selector and class key shared among this hub's pending requests of one
   * class: they are equal by definition, and a long backlog of alike requests is the common case.
   */
  #share(id: string, { params, selector, classKey, spec, stages }: NormalizedRequest): PendingRequest {
    let shared = this.#classes.get(classKey);
    if (shared === undefined) {
      shared = { labels: params.labels, selector, selectorText: params.selector, classKey, refs: 0 };
      this.#classes.set(classKey, shared);
    } else if (shared.refs === 0) {
      this.#classes.cameBack();
    }
    shared.refs++;
    const alike = params.labels === shared.labels && params.selector === shared.selectorText;
    return {
      id,
      params: alike ? params : {
        event: params.event,
        actor: params.actor,
        payload: params.payload,
        labels: shared.labels,
        selector: params.selector === shared.selectorText ? shared.selectorText : params.selector,
        mates: params.mates,
        ...(params.linger === undefined ? {} : { linger: params.linger }),
        ...(params.widen === undefined ? {} : { widen: params.widen }),
      },
      selector: shared.selector,
      classKey: shared.classKey,
      spec,
      stages,
      createdAt: Date.now(),
    };
  }

  /** `mates: 0`: no synchronisation, the caller's own payload at once. */
  #alone(req: PendingRequest): Match {
    const { actor, payload, labels } = req.params;
    const member = req.stages.length === 0 ? { id: req.id, actor, payload, labels } : { id: req.id, actor, payload, labels, stage: 0 };
    const group: Group = { event: req.params.event, members: [member] };
    const match = matchOf(group);
    this.#tell('pending', req);
    this.#tell('match', group, match);
    return match;
  }

  /** Every pending request of the store (every instance's, for a shared store): event → actor → id → entry. */
  async stats(): Promise<StatsTree> {
    // The store's view includes this hub's offers and withdrawals made so far (within a bound).
    await this.#settled(STATS_SETTLE_MS);
    const tree = Object.create(null) as Record<string, Record<string, Record<string, StatsEntry>>>;
    for (const { id, params, createdAt, stage = 0 } of await this.#store.pending()) {
      const byActor = (tree[params.event] ??= Object.create(null) as Record<string, Record<string, StatsEntry>>);
      const byId = (byActor[params.actor] ??= Object.create(null) as Record<string, StatsEntry>);
      const created = new Date(createdAt).toISOString();
      // A request that widens shows where it stands: its stage and the selector in force.
      byId[id] = params.widen === undefined
        ? { params, created_at: created }
        : { params, created_at: created, stage, selector: params.widen[stage - 1]?.selector ?? params.selector };
    }
    return tree;
  }

  /** Reject every waiter with `shutting_down`, refuse new sends, then close the store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const error = errors.shuttingDown();
    // Each waiter leaves the store first: one that a group already took gets its group, not an error.
    await Promise.all([...this.#waiters.values()].map((waiter) => this.#end(waiter, 'closed', error)));
    await this.#settled(Infinity);
    await this.#store.close();
    // A store that answered "already matched" but never delivered the group cannot deliver it now.
    for (const waiter of [...this.#waiters.values()]) this.#fail(waiter, 'closed', error);
  }

  /**
   * A caller whose signal aborted has gone: it is answered at once, and the store is told. A timeout is
   * different: the caller is still waiting, so it is answered only once the store confirms the request
   * is in no group (a group that formed meanwhile is delivered instead).
   */
  #leave(waiter: Waiter, reason: CallerLeft | 'timeout', error: unknown): void {
    if (this.#waiters.get(waiter.req.id) !== waiter) return;
    if (reason === 'timeout') {
      void this.#end(waiter, 'timeout', error);
      return;
    }
    this.#release(waiter);
    // A false answer means a group already took it: that group still settles the others; this caller is gone.
    this.#track(this.#withdrawAfterOffer(waiter));
    // Told only now that the withdrawal is on its way: nothing a listener or the caller does can undo it.
    waiter.sink.failed(error);
    this.#tell('withdrawn', waiter.req, reason);
  }

  /**
   * Withdraw a waiting caller's request and answer `error` once the store confirms it is in no group. If a
   * group took it first, the store delivers that group (onMatch) and the caller gets it.
   */
  async #end(waiter: Waiter, reason: 'timeout' | 'closed', error: unknown): Promise<void> {
    if (waiter.ending) return;
    waiter.ending = true;
    this.#stopTimers(waiter);
    const withdrawing = this.#withdrawAfterOffer(waiter);
    this.#track(withdrawing);
    let withdrawn: boolean;
    try {
      withdrawn = await withdrawing;
    } catch (err) {
      // Shutting down, the caller hears that whatever the store said; otherwise the store's failure.
      if (reason === 'closed') this.#fail(waiter, reason, error);
      else this.#fail(waiter, 'lost', isNetsyncError(err) ? err : errors.storeUnavailable(messageOf(err), err));
      return;
    }
    // A false answer means a group took the request, and the store has delivered it (the waiter is gone).
    // A store that broke that promise still never leaves the caller waiting forever.
    if (this.#waiters.get(waiter.req.id) === waiter) this.#fail(waiter, withdrawn ? reason : 'lost', error);
  }

  /** The store's withdraw, after the request's own offer if that is still on its way. */
  #withdrawAfterOffer(waiter: Waiter): Promise<boolean> {
    const id = waiter.req.id;
    if (waiter.offering === undefined) return this.#withdraw(id);
    const withdrawing = waiter.offering.then(() => this.#withdraw(id));
    this.#holdOffersFor(withdrawing);
    return withdrawing;
  }

  /** Count a store call in the current generation, for `stats()` and `close()`. */
  #track(call: Promise<unknown>): void {
    const generation = this.#generation;
    generation.start();
    void call.then(generation.done, generation.done);
  }

  /** Answer a still-registered waiter with `error`. */
  #fail(waiter: Waiter, reason: WithdrawReason, error: unknown): void {
    if (this.#waiters.get(waiter.req.id) !== waiter) return;
    this.#release(waiter);
    waiter.sink.failed(error);
    this.#tell('withdrawn', waiter.req, reason);
  }

  /** The store's withdraw, as a promise even if the store throws. */
  #withdraw(id: string): Promise<boolean> {
    try {
      return this.#store.withdraw(id);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Make offers sent from now on wait until `withdrawing` (and any earlier such withdrawal) reached the store. */
  #holdOffersFor(withdrawing: Promise<boolean>): void {
    const previous = this.#withdrawals;
    const done = withdrawing.then(ignore, ignore);
    const barrier = previous === undefined ? done : Promise.all([previous, done]).then(ignore);
    this.#withdrawals = barrier;
    void barrier.then(() => {
      if (this.#withdrawals === barrier) this.#withdrawals = undefined;
    });
  }

  #onGroup(group: Group): void {
    let match: Match | undefined;
    for (const { id } of group.members) {
      const waiter = this.#waiters.get(id);
      if (waiter === undefined) continue;
      match ??= matchOf(group);
      this.#release(waiter);
      waiter.sink.matched(match);
    }
    if (match !== undefined) this.#tell('match', group, match);
  }

  #onWindow(window: LingerWindow): void {
    if (this.listenerCount('lingering') === 0) return;
    const reqs: PendingRequest[] = [];
    for (const id of window.ids) {
      const waiter = this.#waiters.get(id);
      if (waiter !== undefined) reqs.push(waiter.req);
    }
    if (reqs.length > 0) this.#tell('lingering', reqs, window);
  }

  #onLost(ids: readonly string[], error: NetsyncError): void {
    for (const id of ids) {
      const waiter = this.#waiters.get(id);
      if (waiter !== undefined) this.#fail(waiter, 'lost', error);
    }
  }

  /** Its timeout and its next widening stage no longer apply: it is ending or settled. */
  #stopTimers(waiter: Waiter): void {
    this.#deadlines.remove(waiter);
    if (waiter.stageTimer !== undefined) {
      clearTimeout(waiter.stageTimer);
      waiter.stageTimer = undefined;
    }
  }

  /** Forget a waiter and its listeners; the caller settles it. */
  #release(waiter: Waiter): void {
    this.#waiters.delete(waiter.req.id);
    const shared = this.#classes.get(waiter.req.classKey);
    if (shared !== undefined && --shared.refs === 0) this.#classes.wentIdle();
    waiter.signal?.removeEventListener('abort', waiter);
    this.#stopTimers(waiter);
  }

  /**
   * Resolves once every store call this hub started before now has ended, or after `boundMs`. Calls
   * started later belong to a new generation and are not waited for.
   */
  #settled(boundMs: number): Promise<void> {
    const earlier = this.#generation;
    this.#generation = new Generation(earlier);
    const drained = earlier.drained();
    if (boundMs === Infinity) return drained;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, boundMs);
    });
    return Promise.race([drained, bound]).finally(() => clearTimeout(timer));
  }

  /**
   * Emit a lifecycle event once the hub's own state is settled. Each listener runs on its own: one that
   * throws neither stops the others nor changes what the hub does; its exception goes to `error`.
   */
  #tell<E extends LifecycleEvent>(event: E, ...args: NetsyncEvents[E]): void {
    if (this.listenerCount(event) === 0) return;
    for (const listener of this.rawListeners(event) as ((...a: NetsyncEvents[E]) => void)[]) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  /** A listener's exception: to `error` listeners if there are any, else a process warning. Never throws. */
  #report(err: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', err);
        return;
      } catch (again) {
        err = again;
      }
    }
    const stack = err instanceof Error ? err.stack : undefined;
    process.emitWarning(messageOf(err), { type: 'NetsyncListenerError', ...(stack === undefined ? {} : { detail: stack }) });
  }
}

/** One result for every member: `payloads` has no prototype, so an actor named `__proto__` is plain data. */
function matchOf(group: Group): Match {
  const payloads: Record<string, JsonValue> = {};
  const members: Member[] = [];
  for (const { actor, payload, labels, stage } of group.members) {
    // Defined, not assigned, so `__proto__` is a key; the prototype is cut below, keeping the object compact.
    Object.defineProperty(payloads, actor, { value: payload, enumerable: true, writable: true, configurable: true });
    members.push(stage === undefined ? { actor, payload, labels } : { actor, payload, labels, stage });
  }
  return { payloads: Object.setPrototypeOf(payloads, null) as Record<string, JsonValue>, members };
}

/** By shape: a store may come from anywhere, and every method of the contract is called at some point. */
function isMatcherStore(value: unknown): value is MatcherStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Record<string, unknown>;
  return ['offer', 'withdraw', 'onMatch', 'pending', 'close'].every((name) => typeof store[name] === 'function');
}

function ignore(): void {
  // Only the timing of a withdrawal matters to the offers queued behind it, not its outcome.
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
