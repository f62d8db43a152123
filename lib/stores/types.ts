// The contract between the hub (which owns this process's waiting callers) and a store (which holds pending requests and forms groups).
import type { NetsyncError } from '../errors';
import type { Selector } from '../selector/types';
import type { JsonValue, Labels, RequestParams } from '../types';

/**
 * How many mates a request wants and how long a range lingers (README, mate ranges). An exact `mates: N` is
 * `{ min: N, max: N, lingerMs: 0 }`; a range `MIN..MAX` has MIN < MAX and `lingerMs` > 0 (default 5000).
 * Requests only ever meet requests with an equal spec (all three fields): the spec is part of the bucket
 * (`specKeyOf` in ./matching) and of the class key.
 */
export interface GroupSpec {
  readonly min: number;
  readonly max: number;
  readonly lingerMs: number;
}

/**
 * One widening stage of a request, compiled on arrival (README, selector widening). From `afterMs` after its
 * arrival the request's current selector is `selector`, and it belongs to the class `classKey`.
 */
export interface Stage {
  readonly afterMs: number;
  readonly selector: Selector;
  /** The stage selector as given, or the default `actor != <actor>` for an empty one. */
  readonly selectorText: string;
  readonly classKey: string;
}

/**
 * A stage change the hub asks a store to apply (`MatcherStore.update`). `stage` is the 1-based index into
 * `PendingRequest.stages` (stage 0 is the request's own selector).
 */
export interface StageChange {
  readonly stage: number;
  readonly selector: Selector;
  readonly selectorText: string;
  readonly classKey: string;
}

/** A request waiting for mates, as the hub hands it to the store. */
export interface PendingRequest {
  /** Unique across every instance sharing a store. */
  readonly id: string;
  readonly params: RequestParams;
  /** `params.selector` compiled (or the default `actor != <actor>` built without parsing): the stage 0 selector. */
  readonly selector: Selector;
  /**
   * Requests with equal class keys are interchangeable for compatibility: same event, spec,
   * labels and selector (canonical forms). Stores keep one FIFO per class. This is the stage 0 class.
   */
  readonly classKey: string;
  /** The mates spec; equal specs are required for compatibility. */
  readonly spec: GroupSpec;
  /** Widening stages in strictly increasing `afterMs` order; empty when the request does not widen. */
  readonly stages: readonly Stage[];
  /** Arrival time, epoch milliseconds (for /stats; order is the store's own arrival sequence). */
  readonly createdAt: number;
}

/** A pending request as listed for /stats (a store may not keep the compiled selector). */
export interface PendingSnapshot {
  readonly id: string;
  readonly params: RequestParams;
  readonly createdAt: number;
  /**
   * The current stage (0 = the original selector; `params.widen[stage - 1]` after a change). Optional so that
   * stores written before widening still fit: absent means 0.
   */
  readonly stage?: number;
}

/** One member of a formed group, with the request id the hub resolves. */
export interface GroupMember {
  readonly id: string;
  readonly actor: string;
  readonly payload: JsonValue;
  readonly labels: Labels;
  /**
   * The member's stage when the group formed. Set (0 included) exactly for a member whose request has
   * widen stages, and absent otherwise, so answers of requests without `widen` look as they always did.
   */
  readonly stage?: number;
}

/** A formed group: MIN+1 to MAX+1 pairwise-compatible requests of one event and spec, in arrival order. */
export interface Group {
  readonly event: string;
  readonly members: readonly GroupMember[];
}

/** Listener for groups that include at least one member owned by this process. */
export type MatchListener = (group: Group) => void;

/**
 * A linger window that opened (README, mate ranges): `ids` are the pending requests of this process in the
 * bucket's possible group when it opened; the group forms at `deadline` (epoch ms on this process's clock)
 * unless a full group forms earlier or withdrawals close the window.
 */
export interface LingerWindow {
  readonly event: string;
  readonly spec: GroupSpec;
  readonly ids: readonly string[];
  readonly deadline: number;
}

/** Listener for linger windows that opened with members owned by this process (for logs). */
export type WindowListener = (window: LingerWindow) => void;

/** Listener for pending requests of this process that the store can no longer serve (e.g. Redis went away). */
export type LostListener = (ids: readonly string[], error: NetsyncError) => void;

/**
 * Where pending requests live and where groups form, atomically (ARCHITECTURE.md, the hub and its stores). The hub never knows which
 * store it drives. A group that includes the offered request may be reported to `onMatch` listeners
 * before `offer` resolves, so the hub registers its waiter first.
 */
export interface MatcherStore {
  /** Match `req` now with pending requests, or keep it pending. Rejects with `store_unavailable` if the store cannot be reached. */
  offer(req: PendingRequest): Promise<void>;
  /**
   * Withdraw a pending request. Resolves true once it is in the store no more, so no group can take it.
   * Resolves false if a group already took it (or it is unknown): a group with a member of this process
   * must then have reached the `onMatch` listeners before the promise resolves, so that a caller whose
   * timeout raced its group gets the group and never an error its mates don't see (ARCHITECTURE.md, matching rules).
   */
  withdraw(id: string): Promise<boolean>;
  /**
   * Move a pending request to a later stage: from now on its selector is `change.selector` and its class
   * `change.classKey`, keeping its ORIGINAL place in the arrival order (FIFO still favours it). The store
   * then searches at once for a group it completes, as for an arrival; such a group reaches `onMatch`
   * (possibly before the promise resolves). Resolves true if the request is still pending (or now matched
   * by that search), false if it is no longer pending (matched earlier or withdrawn: it is left alone and
   * never re-entered). A change whose stage is not greater than the stored one is a no-op (true if pending).
   * Optional: the hub refuses requests with `widen` on a store without it.
   */
  update?(id: string, change: StageChange): Promise<boolean>;
  /**
   * Set by a store that forms groups for mate ranges (`GroupSpec.min < max`) with a linger window
   * (README, mate ranges; ARCHITECTURE.md). The hub refuses range requests on a store without it.
   * Exact specs are served by every store.
   */
  readonly supportsRanges?: true;
  /** Subscribe to groups with members owned by this process. */
  onMatch(listener: MatchListener): void;
  /** Subscribe to linger windows that open (optional: only for logs; a store may omit it). */
  onWindow?(listener: WindowListener): void;
  /** Subscribe to losses of this process's pending requests (optional: a store that cannot lose requests omits it). */
  onLost?(listener: LostListener): void;
  /** Every pending request the store holds (every instance's, for a shared store). */
  pending(): Promise<PendingSnapshot[]>;
  /** Release timers and connections. Pending requests of this process are dropped. */
  close(): Promise<void>;
}
