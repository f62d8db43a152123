// Driving RedisStores directly (no hub): requests made by the normaliser, groups awaited per request id.
import { normalizeParams } from '../../lib/params';
import type { RedisStore } from '../../lib/stores/redis';
import type { Group, LingerWindow, PendingRequest, StageChange } from '../../lib/stores/types';
import type { SendParams } from '../../lib/types';

let nextId = 0;

/** A request as the hub would offer it (ids unique in this process, prefixed so the test's log reads well). */
export function request(params: SendParams, tag = 'r'): PendingRequest {
  const { params: normalized, selector, classKey, spec, stages } = normalizeParams(params);
  return { id: `${tag}-${(nextId++).toString(36)}`, params: normalized, selector, classKey, spec, stages, createdAt: Date.now() };
}

/** The change the hub sends when `req` reaches stage `stage` (1-based). */
export function stageChange(req: PendingRequest, stage: number): StageChange {
  const s = req.stages[stage - 1];
  if (s === undefined) throw new Error(`request ${req.id} has no stage ${stage}`);
  return { stage, selector: s.selector, selectorText: s.selectorText, classKey: s.classKey };
}

/** One store's groups and windows as reported to its listeners, awaitable by request id. */
export class Observed {
  readonly groups: Group[] = [];
  readonly windows: LingerWindow[] = [];
  readonly #waiting = new Map<string, (group: Group) => void>();
  readonly #byId = new Map<string, Group>();

  constructor(readonly store: RedisStore) {
    store.onMatch((group) => {
      this.groups.push(group);
      for (const { id } of group.members) {
        this.#byId.set(id, group);
        this.#waiting.get(id)?.(group);
      }
    });
    store.onWindow((window) => this.windows.push(window));
  }

  /** The group `id` joined, once this store reported it. */
  groupOf(id: string): Promise<Group> {
    const known = this.#byId.get(id);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => this.#waiting.set(id, resolve));
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }
}

/** Member ids of a group, in its order. */
export function idsOf(group: Group): string[] {
  return group.members.map((m) => m.id);
}

