// The contract between the hub (which owns this process's waiting callers) and a store (which holds pending requests and forms groups).
import type { NetsyncError } from '../errors';
import type { Selector } from '../selector/types';
import type { JsonValue, Labels, RequestParams } from '../types';

/** A request waiting for mates, as the hub hands it to the store. */
export interface PendingRequest {
  /** Unique across every instance sharing a store. */
  readonly id: string;
  readonly params: RequestParams;
  /** `params.selector` compiled (or the default `actor != <actor>` built without parsing). */
  readonly selector: Selector;
  /**
   * Requests with equal class keys are interchangeable for compatibility: same event, mates,
   * labels and selector (canonical forms). Stores keep one FIFO per class.
   */
  readonly classKey: string;
  /** Arrival time, epoch milliseconds (for /stats; order is the store's own arrival sequence). */
  readonly createdAt: number;
}

/** A pending request as listed for /stats (a store may not keep the compiled selector). */
export interface PendingSnapshot {
  readonly id: string;
  readonly params: RequestParams;
  readonly createdAt: number;
}

/** One member of a formed group, with the request id the hub resolves. */
export interface GroupMember {
  readonly id: string;
  readonly actor: string;
  readonly payload: JsonValue;
  readonly labels: Labels;
}

/** A formed group: `mates + 1` pairwise-compatible requests of one event, in arrival order. */
export interface Group {
  readonly event: string;
  readonly members: readonly GroupMember[];
}

/** Listener for groups that include at least one member owned by this process. */
export type MatchListener = (group: Group) => void;

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
  /** Subscribe to groups with members owned by this process. */
  onMatch(listener: MatchListener): void;
  /** Subscribe to losses of this process's pending requests (optional: a store that cannot lose requests omits it). */
  onLost?(listener: LostListener): void;
  /** Every pending request the store holds (every instance's, for a shared store). */
  pending(): Promise<PendingSnapshot[]>;
  /** Release timers and connections. Pending requests of this process are dropped. */
  close(): Promise<void>;
}
