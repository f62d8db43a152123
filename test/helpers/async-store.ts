// A store that behaves like a networked one: offers and withdrawals answer a tick later, groups arrive later still.
import { MemoryStore } from '../../lib/stores/memory';
import type { Group, LostListener, MatcherStore, MatchListener, PendingRequest, PendingSnapshot } from '../../lib/stores/types';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Wraps a MemoryStore; records calls; `failOffers` makes offers reject like an unreachable server. */
export class AsyncStore implements MatcherStore {
  readonly inner = new MemoryStore();
  readonly calls: string[] = [];
  failOffers: Error | undefined;
  /** Withdrawals answer false (as if a group had taken the request in the meantime). */
  refuseWithdrawals = false;
  /** While set, formed groups wait here instead of being delivered (a slow pub/sub). */
  held: Group[] | undefined;
  readonly #matchListeners: MatchListener[] = [];
  readonly #lostListeners: LostListener[] = [];

  constructor() {
    this.inner.onMatch((group) => {
      if (this.held !== undefined) this.held.push(group);
      else void tick().then(() => this.deliver(group));
    });
  }

  /** Hand a group to the listeners, as a pub/sub message would. */
  deliver(group: Group): void {
    for (const listener of this.#matchListeners) listener(group);
  }

  /** Deliver the held groups and stop holding. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const group of held) this.deliver(group);
  }

  /** Report requests as lost, as a store that lost its connection would. */
  lose(...args: Parameters<LostListener>): void {
    for (const listener of this.#lostListeners) listener(...args);
  }

  async offer(req: PendingRequest): Promise<void> {
    this.calls.push(`offer ${req.params.actor}`);
    await tick();
    if (this.failOffers !== undefined) throw this.failOffers;
    await this.inner.offer(req);
  }

  async withdraw(id: string): Promise<boolean> {
    await tick();
    const withdrawn = this.refuseWithdrawals ? false : await this.inner.withdraw(id);
    this.calls.push(`withdraw ${String(withdrawn)}`);
    // The contract: "already matched" comes after the group that took it, as a store reading it back would.
    if (!withdrawn && this.held !== undefined) {
      const taken = this.held.filter((group) => group.members.some((member) => member.id === id));
      this.held = this.held.filter((group) => !taken.includes(group));
      for (const group of taken) this.deliver(group);
    }
    return withdrawn;
  }

  onMatch(listener: MatchListener): void {
    this.#matchListeners.push(listener);
  }

  onLost(listener: LostListener): void {
    this.#lostListeners.push(listener);
  }

  async pending(): Promise<PendingSnapshot[]> {
    await tick();
    return this.inner.pending();
  }

  async close(): Promise<void> {
    this.calls.push('close');
    await this.inner.close();
  }
}
