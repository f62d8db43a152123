// The in-process store: pending requests in FIFO classes of interchangeable requests, groups formed on arrival.
import { errors } from '../errors';
import type { Labels, Requirement, Selector } from '../selector/types';
import { anchorOf, GROUP_SEARCH_BUDGET, selectorKeyOf, specKeyOf } from './matching';
import type { Group, MatcherStore, MatchListener, PendingRequest, PendingSnapshot } from './types';

export { GROUP_SEARCH_BUDGET } from './matching';

/** A pending request, linked into its class's FIFO. */
interface Entry {
  readonly req: PendingRequest;
  /** The store's own arrival order. */
  readonly seq: number;
  readonly cls: RequestClass;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Requests with one class key: same event, mates, labels and selector, so compatible with the same others. */
interface RequestClass {
  readonly key: string;
  readonly bucket: Bucket;
  readonly family: Family;
  readonly labels: Labels;
  readonly selector: Selector;
  head: Entry | undefined;
  tail: Entry | undefined;
  size: number;
  /** Whether two members of this class may meet, decided once (undefined until asked). */
  selfCompatible: boolean | undefined;
}

/**
 * The classes of one bucket that share a selector (typically many actors with one selector). Whether
 * they accept a newcomer is one check for all of them, so a backlog of distinct actors that would
 * turn it down costs one check, not one per actor.
 */
interface Family {
  readonly key: string;
  readonly selector: Selector;
  /** A requirement the newcomer's labels must meet for this family to accept it (`=`, `==`, `in`), if any. */
  readonly anchor: Requirement | undefined;
  readonly classes: Set<RequestClass>;
  /** The classes by their labels, made once the family holds a second class (see #classesFor). */
  byLabel: ValueIndex<RequestClass> | undefined;
}

/** The classes of one (event, mates): only these can ever meet each other. */
interface Bucket {
  readonly key: string;
  readonly classes: Map<string, RequestClass>;
  readonly families: Map<string, Family>;
  /** Made once the bucket holds a second family (a lone family needs no index, and most buckets have one). */
  index: FamilyIndex | undefined;
}

/**
 * The default store: embedded, no set-up, for one process. Forms a group the moment a request arrives
 * (ARCHITECTURE.md, matching rules): exact mates, pairwise-compatible members, oldest candidates first, and reports it to
 * `onMatch` listeners before `offer` resolves.
 */
export class MemoryStore implements MatcherStore {
  #seq = 0;
  #closed = false;
  readonly #entries = new Map<string, Entry>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #listeners: MatchListener[] = [];

  /** Match `req` now with pending requests, or keep it pending. */
  offer(req: PendingRequest): Promise<void> {
    if (this.#closed) return Promise.reject(errors.shuttingDown());
    if (this.#entries.has(req.id)) return Promise.resolve();
    const cls = this.#classFor(req);
    const entry: Entry = { req, seq: ++this.#seq, cls, prev: undefined, next: undefined };
    const mates = req.spec.max;
    const others = mates === 1 ? this.#oldestPartner(cls) : this.#oldestClique(cls, mates);
    if (others === undefined) {
      this.#append(entry);
      return Promise.resolve();
    }
    for (const other of others) {
      this.#unlink(other);
      if (other.cls.size === 0) this.#dropClass(other.cls);
    }
    if (cls.size === 0) this.#dropClass(cls);
    try {
      this.#emit({
        event: req.params.event,
        members: [...others, entry].map(({ req: { id, params } }) => ({
          id, actor: params.actor, payload: params.payload, labels: params.labels,
        })),
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /** Withdraw a pending request; false if it is unknown (already matched or never offered). */
  withdraw(id: string): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return Promise.resolve(false);
    this.#unlink(entry);
    if (entry.cls.size === 0) this.#dropClass(entry.cls);
    return Promise.resolve(true);
  }

  /** Subscribe to formed groups (every group of this store belongs to this process). */
  onMatch(listener: MatchListener): void {
    this.#listeners.push(listener);
  }

  /** Every pending request, in arrival order. */
  pending(): Promise<PendingSnapshot[]> {
    const list: PendingSnapshot[] = [];
    for (const { req } of this.#entries.values()) list.push({ id: req.id, params: req.params, createdAt: req.createdAt });
    return Promise.resolve(list);
  }

  /** Drop every pending request; later offers reject with `shutting_down`. */
  close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    this.#buckets.clear();
    return Promise.resolve();
  }

  #classFor(req: PendingRequest): RequestClass {
    const bucketKey = `${specKeyOf(req.spec)}:${req.params.event}`;
    let bucket = this.#buckets.get(bucketKey);
    if (bucket === undefined) {
      bucket = { key: bucketKey, classes: new Map(), families: new Map(), index: undefined };
      this.#buckets.set(bucketKey, bucket);
    }
    let cls = bucket.classes.get(req.classKey);
    if (cls === undefined) {
      const familyKey = selectorKeyOf(req.selector);
      let family = bucket.families.get(familyKey);
      if (family === undefined) {
        family = { key: familyKey, selector: req.selector, anchor: anchorOf(req.selector), classes: new Set(), byLabel: undefined };
        bucket.families.set(familyKey, family);
        if (bucket.index !== undefined) bucket.index.add(family);
        else if (bucket.families.size > 1) bucket.index = FamilyIndex.of(bucket.families.values());
      }
      cls = {
        key: req.classKey, bucket, family, labels: req.params.labels, selector: req.selector,
        head: undefined, tail: undefined, size: 0, selfCompatible: undefined,
      };
      bucket.classes.set(req.classKey, cls);
      family.classes.add(cls);
      if (family.byLabel !== undefined) fileByLabels(family.byLabel, cls);
      else if (family.classes.size > 1) {
        family.byLabel = new ValueIndex();
        for (const member of family.classes) fileByLabels(family.byLabel, member);
      }
    }
    return cls;
  }

  /**
   * The families of the newcomer's bucket whose selector may accept its labels: all of them for a lone
   * family, otherwise those the index finds for its labels. Any other family's selector would reject it,
   * so leaving them out changes no result, only the cost of an arrival beside many distinct selectors.
   */
  #familiesFor(cls: RequestClass): Iterable<Family> {
    const bucket = cls.bucket;
    if (bucket.index === undefined) return bucket.families.values();
    const found = this.#found;
    found.length = 0;
    bucket.index.collect(cls.labels, found);
    return found;
  }

  /** Reused by #familiesFor: one arrival is searched at a time, and the list is read before the next. */
  readonly #found: Family[] = [];

  /**
   * The classes of `family` whose labels the newcomer's selector may accept: all of them, unless the
   * newcomer requires a label value (its anchor) and the family has its classes filed by label; then only
   * the classes with one of those values. The others would be rejected by that requirement, so a newcomer
   * that wants one particular actor among 10,000 sharing a selector looks at one class, not 10,000.
   */
  #classesFor(family: Family, newcomer: RequestClass): Iterable<RequestClass> {
    const anchor = newcomer.family.anchor;
    if (family.byLabel === undefined || anchor === undefined) return family.classes;
    const found = this.#foundClasses;
    found.length = 0;
    for (const value of anchor.values) family.byLabel.collect(anchor.key, value, found);
    return found;
  }

  /** Reused by #classesFor, read to the end before the next family is asked for. */
  readonly #foundClasses: RequestClass[] = [];

  /** The oldest pending request the newcomer's class is compatible with (a class may be compatible with itself). */
  #oldestPartner(cls: RequestClass): Entry[] | undefined {
    let best: Entry | undefined;
    for (const family of this.#familiesFor(cls)) {
      if (!family.selector.matches(cls.labels)) continue;
      for (const other of this.#classesFor(family, cls)) {
        const head = other.head;
        if (head === undefined || (best !== undefined && head.seq > best.seq)) continue;
        if (cls.selector.matches(other.labels)) best = head;
      }
    }
    return best === undefined ? undefined : [best];
  }

  /**
   * The `mates` pending requests that, with the newcomer, form a clique and come earliest by arrival
   * (lexicographically). Only the first `mates` of each compatible class can be in it, since members of
   * one class are interchangeable. Depth-first in arrival order, so the first clique found is the earliest.
   * The search is bounded: past GROUP_SEARCH_BUDGET steps the newcomer waits as if no group existed,
   * so a pathological backlog costs bounded time per arrival.
   */
  #oldestClique(cls: RequestClass, mates: number): Entry[] | undefined {
    if (mates === 0) return [];
    const candidates: Entry[] = [];
    for (const family of this.#familiesFor(cls)) {
      if (!family.selector.matches(cls.labels)) continue;
      for (const other of this.#classesFor(family, cls)) {
        if (other.head === undefined || !cls.selector.matches(other.labels)) continue;
        let taken = 0;
        for (let e: Entry | undefined = other.head; e !== undefined && taken < mates; e = e.next, taken++) candidates.push(e);
      }
    }
    if (candidates.length < mates) return undefined;
    candidates.sort((a, b) => a.seq - b.seq);
    const memo = new VerdictMemo();
    const chosen: Entry[] = [];
    let steps = 0;
    const search = (from: number): boolean => {
      if (chosen.length === mates) return true;
      for (let i = from; i <= candidates.length - (mates - chosen.length); i++) {
        if (++steps > GROUP_SEARCH_BUDGET) return false;
        const candidate = candidates[i] as Entry;
        if (!chosen.every((c) => memo.compatible(c.cls, candidate.cls))) continue;
        chosen.push(candidate);
        if (search(i + 1)) return true;
        chosen.pop();
        if (steps > GROUP_SEARCH_BUDGET) return false;
      }
      return false;
    };
    return search(0) ? chosen : undefined;
  }

  #append(entry: Entry): void {
    const cls = entry.cls;
    entry.prev = cls.tail;
    if (cls.tail === undefined) cls.head = entry;
    else cls.tail.next = entry;
    cls.tail = entry;
    cls.size++;
    this.#entries.set(entry.req.id, entry);
  }

  #unlink(entry: Entry): void {
    const cls = entry.cls;
    if (entry.prev === undefined) cls.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) cls.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
    cls.size--;
    this.#entries.delete(entry.req.id);
  }

  /** Forget an empty class, so memory follows what is pending, not history. */
  #dropClass(cls: RequestClass): void {
    const bucket = cls.bucket;
    if (bucket.classes.get(cls.key) === cls) bucket.classes.delete(cls.key);
    const family = cls.family;
    if (family.classes.delete(cls) && family.byLabel !== undefined) unfileByLabels(family.byLabel, cls);
    if (family.classes.size === 0 && bucket.families.get(family.key) === family) {
      bucket.families.delete(family.key);
      bucket.index?.remove(family);
    }
    if (bucket.classes.size === 0 && this.#buckets.get(bucket.key) === bucket) this.#buckets.delete(bucket.key);
  }

  /** Every listener hears of the group even if one throws; the first error is rethrown afterwards. */
  #emit(group: Group): void {
    let failure: { error: unknown } | undefined;
    for (const listener of this.#listeners) {
      try {
        listener(group);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }
}

/**
 * Items filed under (label key, value) pairs: key → value → the item or, when several share the pair, a set of
 * them (most pairs name one item, and a set per item would cost more than the item). Pairs left empty are dropped.
 */
class ValueIndex<T extends object> {
  readonly #byKey = new Map<string, Map<string, T | Set<T>>>();

  get empty(): boolean {
    return this.#byKey.size === 0;
  }

  add(key: string, value: string, item: T): void {
    let byValue = this.#byKey.get(key);
    if (byValue === undefined) this.#byKey.set(key, (byValue = new Map()));
    const filed = byValue.get(value);
    if (filed === undefined) byValue.set(value, item);
    else if (filed instanceof Set) filed.add(item);
    else if (filed !== item) byValue.set(value, new Set([filed, item]));
  }

  remove(key: string, value: string, item: T): void {
    const byValue = this.#byKey.get(key);
    if (byValue === undefined) return;
    const filed = byValue.get(value);
    if (filed === item || (filed instanceof Set && filed.delete(item) && filed.size === 0)) byValue.delete(value);
    if (byValue.size === 0) this.#byKey.delete(key);
  }

  /** Appends to `out` the items filed under (key, value). */
  collect(key: string, value: string, out: T[]): void {
    const filed = this.#byKey.get(key)?.get(value);
    if (filed === undefined) return;
    if (filed instanceof Set) for (const item of filed) out.push(item);
    else out.push(filed);
  }
}

/** Files `cls` under each of its labels. */
function fileByLabels(index: ValueIndex<RequestClass>, cls: RequestClass): void {
  for (const key of Object.keys(cls.labels)) index.add(key, cls.labels[key] as string, cls);
}

function unfileByLabels(index: ValueIndex<RequestClass>, cls: RequestClass): void {
  for (const key of Object.keys(cls.labels)) index.remove(key, cls.labels[key] as string, cls);
}

/**
 * The families of one bucket filed by their anchor: label key → value → families whose anchor accepts that
 * value, plus the families without an anchor. A newcomer's few labels then name every family that may accept
 * it, so an arrival beside 10,000 distinct selectors (say `actor=friend<i>`) costs a few lookups, not 10,000
 * selector checks.
 */
class FamilyIndex {
  readonly #anchored = new ValueIndex<Family>();
  readonly #unanchored = new Set<Family>();

  /** An index of `families`. */
  static of(families: Iterable<Family>): FamilyIndex {
    const index = new FamilyIndex();
    for (const family of families) index.add(family);
    return index;
  }

  add(family: Family): void {
    const anchor = family.anchor;
    if (anchor === undefined) this.#unanchored.add(family);
    else for (const value of anchor.values) this.#anchored.add(anchor.key, value, family);
  }

  remove(family: Family): void {
    const anchor = family.anchor;
    if (anchor === undefined) this.#unanchored.delete(family);
    else for (const value of anchor.values) this.#anchored.remove(anchor.key, value, family);
  }

  /** Appends to `out` every family that may accept `labels` (each once: a family is filed under one key). */
  collect(labels: Labels, out: Family[]): void {
    for (const family of this.#unanchored) out.push(family);
    if (this.#anchored.empty) return;
    for (const key of Object.keys(labels)) this.#anchored.collect(key, labels[key] as string, out);
  }
}

/**
 * Each one's selector matches the other's labels (same event and mates is given by the bucket).
 * One arrival asks once per class, whatever the class holds. Verdicts between different classes are
 * not kept across arrivals: with many single-request classes (distinct actors) a pairwise cache would
 * grow with the square of the backlog, and a lookup costs about what a selector check does.
 */
function compatible(a: RequestClass, b: RequestClass): boolean {
  if (a === b) return (a.selfCompatible ??= a.selector.matches(a.labels));
  return a.selector.matches(b.labels) && b.selector.matches(a.labels);
}

/** Verdicts for one group search, which asks about the same few pairs of classes many times. */
class VerdictMemo {
  readonly #verdicts = new Map<RequestClass, Map<RequestClass, boolean>>();

  compatible(a: RequestClass, b: RequestClass): boolean {
    if (a === b) return compatible(a, b);
    let row = this.#verdicts.get(a);
    if (row === undefined) this.#verdicts.set(a, (row = new Map()));
    let verdict = row.get(b);
    if (verdict === undefined) {
      verdict = compatible(a, b);
      row.set(b, verdict);
      let back = this.#verdicts.get(b);
      if (back === undefined) this.#verdicts.set(b, (back = new Map()));
      back.set(a, verdict);
    }
    return verdict;
  }
}
