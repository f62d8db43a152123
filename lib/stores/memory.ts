// The in-process store: pending requests in FIFO classes of interchangeable requests, groups formed on arrival
// (or, for a mates range, when a bucket's linger window ends).
import { errors } from '../errors';
import { IdleMap } from '../idle-map';
import type { Labels, Requirement, Selector } from '../selector/types';
import { anchorOf, GROUP_SEARCH_BUDGET, isRange, selectorKeyOf, specKeyOf } from './matching';
import type {
  Group, GroupMember, GroupSpec, LingerWindow, MatcherStore, MatchListener, PendingRequest, PendingSnapshot, StageChange,
  WindowListener,
} from './types';

export { GROUP_SEARCH_BUDGET } from './matching';

/** A pending request, linked into its class's FIFO (ordered by `seq`, also after a stage change). */
interface Entry {
  readonly req: PendingRequest;
  /** The store's own arrival order, kept across stage changes. */
  readonly seq: number;
  /** Its current class: the stage 0 class, or that of its current stage. */
  cls: RequestClass;
  /** Its current stage (0 = its own selector). */
  stage: number;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** Requests with one class key: same event, mates, labels and selector, so compatible with the same others. */
interface RequestClass {
  readonly key: string;
  readonly bucket: Bucket;
  /** Its family while attached; an idle class is out of its family and the family may be gone. */
  family: Family;
  /** False once it emptied: it stays in `bucket.classes`, idle, for the same class coming back (IdleMap). */
  attached: boolean;
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

/** The classes of one (event, spec): only these can ever meet each other. */
interface Bucket {
  readonly event: string;
  /** specKeyOf(spec): the bucket is filed under it, then under its event. */
  readonly specKey: string;
  readonly spec: GroupSpec;
  /** Its classes, attached and idle (see RequestClass.attached). */
  readonly classes: IdleMap<string, RequestClass>;
  /** Its families, with classes or idle (none; kept for the same reason as idle classes). */
  readonly families: IdleMap<string, Family>;
  /** Made once the bucket holds a second family (a lone family needs no index, and most buckets have one). */
  index: FamilyIndex | undefined;
  /** The open linger window of a range bucket: open exactly while a group of at least MIN+1 is possible. */
  window: Window | undefined;
  /**
   * Range buckets: pending requests that were in a possible group of MIN+1 when they were filed. Every
   * possible group holds one (the member filed last found it), so looking for a group starts from these,
   * never from the whole bucket: a backlog of requests that can meet nobody is never scanned. Undefined for an
   * exact count, which never looks for a group this way (and a Set per event is memory per waiter when every
   * waiter has an event of its own).
   */
  readonly possible: Set<Entry> | undefined;
}

/** A linger window: when it ends, the largest group then possible forms. */
interface Window {
  readonly deadline: number;
  readonly timer: unknown;
  /**
   * A group of at least MIN+1 known to be possible. While all of it is pending the window stays open
   * without a search; when one of it leaves, the bucket is searched for another.
   */
  witness: readonly Entry[];
}

/** The timers a MemoryStore uses for linger windows; tests may pass fake ones. */
export interface StoreClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

/** Options of a MemoryStore. */
export interface MemoryStoreOptions {
  /** Where linger windows take their time from. Default: Date.now and the global timers. */
  clock?: StoreClock;
}

const SYSTEM_CLOCK: StoreClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** A search's remaining steps, shared by the searches one operation makes. */
interface Budget {
  steps: number;
}

/**
 * The default store: embedded, no set-up, for one process. Forms a group the moment a request arrives
 * (ARCHITECTURE.md, matching rules): exact mates, pairwise-compatible members, oldest candidates first, and reports it to
 * `onMatch` listeners before `offer` resolves. For a mates range MIN..MAX, a full group of MAX+1 forms at
 * once; a smaller possible group opens the bucket's linger window, whose timer forms the largest group then
 * possible (README, mate ranges).
 */
export class MemoryStore implements MatcherStore {
  readonly supportsRanges = true as const;
  #seq = 0;
  #closed = false;
  readonly #clock: StoreClock;
  readonly #entries = new Map<string, Entry>();
  /**
   * Buckets by spec key, then by event. Two levels rather than one joined key: an arrival finds its bucket with
   * strings it already holds, instead of building a key string each time (and keeping one per event).
   */
  readonly #buckets = new Map<string, Map<string, Bucket>>();
  readonly #listeners: MatchListener[] = [];
  readonly #windowListeners: WindowListener[] = [];
  /** Buckets with an open window, so close() can clear their timers. */
  readonly #lingering = new Set<Bucket>();
  /** Whether any stage changed, so that pending() must sort by arrival. */
  #changedStages = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Match `req` now with pending requests, or keep it pending. */
  offer(req: PendingRequest): Promise<void> {
    if (this.#closed) return Promise.reject(errors.shuttingDown());
    if (this.#entries.has(req.id)) return Promise.resolve();
    const cls = this.#classFor(this.#bucketFor(req), req.classKey, req.params.labels, req.selector);
    const entry: Entry = { req, seq: ++this.#seq, cls, stage: 0, prev: undefined, next: undefined };
    try {
      this.#arrive(entry, false);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  /**
   * Move a pending request to a later stage: it leaves its class for the stage's, keeping its arrival
   * sequence, and is searched for as if it arrived (README, selector widening).
   */
  update(id: string, change: StageChange): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return Promise.resolve(false);
    if (change.stage <= entry.stage) return Promise.resolve(true);
    const bucket = entry.cls.bucket;
    const wasWitness = bucket.window?.witness.includes(entry) === true;
    this.#unlink(entry);
    if (entry.cls.size === 0) this.#dropClass(entry.cls, false);
    entry.stage = change.stage;
    this.#changedStages = true;
    entry.cls = this.#classFor(bucket, change.classKey, entry.req.params.labels, change.selector);
    try {
      this.#arrive(entry, wasWitness);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve(true);
  }

  /** Withdraw a pending request; false if it is unknown (already matched or never offered). */
  withdraw(id: string): Promise<boolean> {
    const entry = this.#entries.get(id);
    if (entry === undefined) return Promise.resolve(false);
    const bucket = entry.cls.bucket;
    this.#unlink(entry);
    if (entry.cls.size === 0) this.#dropClass(entry.cls, false);
    if (bucket.window?.witness.includes(entry) === true) this.#review(bucket);
    this.#dropBucketIfEmpty(bucket);
    return Promise.resolve(true);
  }

  /** Subscribe to formed groups (every group of this store belongs to this process). */
  onMatch(listener: MatchListener): void {
    this.#listeners.push(listener);
  }

  /** Subscribe to linger windows as they open (for logs). */
  onWindow(listener: WindowListener): void {
    this.#windowListeners.push(listener);
  }

  /** Every pending request, in arrival order. */
  pending(): Promise<PendingSnapshot[]> {
    const entries = [...this.#entries.values()];
    // A stage change re-files its entry, so the map's order is no longer the arrival order.
    if (this.#changedStages) entries.sort((a, b) => a.seq - b.seq);
    const list: PendingSnapshot[] = entries.map(({ req, stage }) => (req.stages.length === 0
      ? { id: req.id, params: req.params, createdAt: req.createdAt }
      : { id: req.id, params: req.params, createdAt: req.createdAt, stage }));
    return Promise.resolve(list);
  }

  /** Drop every pending request and window timer; later offers reject with `shutting_down`. */
  close(): Promise<void> {
    this.#closed = true;
    for (const bucket of this.#lingering) if (bucket.window !== undefined) this.#clock.clearTimeout(bucket.window.timer);
    this.#lingering.clear();
    this.#entries.clear();
    this.#buckets.clear();
    return Promise.resolve();
  }

  /** How many linger windows are open (their timers running): none once closed. */
  get lingeringWindows(): number {
    return this.#lingering.size;
  }

  /**
   * Search for a group `entry` completes (it is unlinked: a newcomer, or a request whose stage changed), form
   * it or file the entry, and keep the bucket's window true to what is possible. `wasWitness`: the entry was in
   * the window's witness before its stage changed, so the window must be checked again.
   */
  #arrive(entry: Entry, wasWitness: boolean): void {
    const cls = entry.cls;
    const bucket = cls.bucket;
    const { min, max } = bucket.spec;
    const others = this.#cliqueFor(cls, max, 0, { steps: GROUP_SEARCH_BUDGET });
    if (others !== undefined) {
      if (cls.size === 0) this.#dropClass(cls, false);
      this.#form(bucket, [...others, entry]);
      return;
    }
    this.#link(entry);
    if (min === max) return;
    const seed = this.#cliqueFor(cls, min, 0, { steps: GROUP_SEARCH_BUDGET }, entry);
    if (seed !== undefined) bucket.possible?.add(entry);
    if (bucket.window === undefined) {
      // Before this entry no group of MIN+1 was possible (the window would be open), so a new one includes it.
      if (seed !== undefined) this.#open(bucket, [...seed, entry]);
    } else if (wasWitness) {
      this.#review(bucket);
    }
  }

  /** Take `members` out of the store and report their group (members in arrival order). */
  #form(bucket: Bucket, members: Entry[]): void {
    members.sort((a, b) => a.seq - b.seq);
    let touchesWitness = false;
    for (const member of members) {
      if (bucket.window?.witness.includes(member) === true) touchesWitness = true;
      if (this.#entries.get(member.req.id) === member) {
        this.#unlink(member);
        if (member.cls.size === 0) this.#dropClass(member.cls, false);
      }
    }
    if (touchesWitness) this.#review(bucket);
    this.#dropBucketIfEmpty(bucket);
    this.#emit({ event: bucket.event, members: members.map(memberOf) });
  }

  /** A window's witness lost a member: find another possible group, or close the window. */
  #review(bucket: Bucket): void {
    const window = bucket.window;
    if (window === undefined) return;
    const witness = this.#anyGroup(bucket);
    if (witness !== undefined) {
      window.witness = witness;
      return;
    }
    this.#clock.clearTimeout(window.timer);
    bucket.window = undefined;
    this.#lingering.delete(bucket);
  }

  /**
   * Some possible group of MIN+1 in a range bucket, searched from the requests marked possible when filed;
   * those no longer in one are unmarked (only a later filing, which marks itself, can put them in one again).
   */
  #anyGroup(bucket: Bucket): Entry[] | undefined {
    const possible = bucket.possible;
    if (possible === undefined) return undefined;
    const budget: Budget = { steps: GROUP_SEARCH_BUDGET };
    for (const entry of possible) {
      if (--budget.steps < 0) return undefined;
      const others = this.#cliqueFor(entry.cls, bucket.spec.min, 0, budget, entry);
      if (others !== undefined) return [...others, entry];
      if (budget.steps < 0) return undefined;
      possible.delete(entry);
    }
    return undefined;
  }

  /** Open the bucket's window with a possible group `witness`, timed from now. */
  #open(bucket: Bucket, witness: readonly Entry[]): void {
    const lingerMs = bucket.spec.lingerMs;
    const deadline = this.#clock.now() + lingerMs;
    const timer = this.#clock.setTimeout(() => this.#windowEnds(bucket), lingerMs);
    bucket.window = { deadline, timer, witness };
    this.#lingering.add(bucket);
    const window: LingerWindow = { event: bucket.event, spec: bucket.spec, ids: witness.map((e) => e.req.id), deadline };
    for (const listener of this.#windowListeners) {
      try {
        listener(window);
      } catch {
        // A log listener's failure must not change what the store does.
      }
    }
  }

  /** The window ended: the largest group then possible forms; if another is possible among the rest, a new window opens. */
  #windowEnds(bucket: Bucket): void {
    if (bucket.window === undefined || this.#closed) return;
    bucket.window = undefined;
    this.#lingering.delete(bucket);
    const { min, max } = bucket.spec;
    const group = this.#largestGroup(bucket, min, max);
    if (group === undefined) {
      this.#dropBucketIfEmpty(bucket);
      return;
    }
    try {
      this.#form(bucket, group);
    } catch {
      // A timer has no caller to tell: the hub's listener never throws, and another's failure is its own.
    }
    if (bucket.window === undefined) {
      const next = this.#anyGroup(bucket);
      if (next !== undefined) this.#open(bucket, next);
      else this.#dropBucketIfEmpty(bucket);
    }
  }

  /**
   * The largest group of `min`+1 to `max`+1 pairwise-compatible pending requests of the bucket, the earliest by
   * arrival (lexicographically) among those of that size; undefined if none (or the search ran out of budget).
   * Every possible group holds a request marked possible, and all its members are compatible with that one,
   * so only the classes of marked requests and of their compatible classes are tried. Only a class's head can
   * be a group's oldest member (its class-mates are interchangeable and younger), so the classes are tried by
   * the age of their heads.
   */
  #largestGroup(bucket: Bucket, min: number, max: number): Entry[] | undefined {
    const budget: Budget = { steps: GROUP_SEARCH_BUDGET };
    const relevant = new Set<RequestClass>();
    for (const entry of bucket.possible ?? []) {
      relevant.add(entry.cls);
      for (const family of this.#familiesFor(entry.cls)) {
        if (family.classes.size === 0 || !family.selector.matches(entry.cls.labels)) continue;
        for (const other of this.#classesFor(family, entry.cls)) {
          if (--budget.steps < 0) return undefined;
          if (entry.cls.selector.matches(other.labels)) relevant.add(other);
        }
      }
    }
    const classes = [...relevant].filter((c) => c.head !== undefined);
    classes.sort((a, b) => (a.head as Entry).seq - (b.head as Entry).seq);
    for (let mates = max; mates >= min; mates--) {
      for (const cls of classes) {
        if (--budget.steps < 0) return undefined;
        const head = cls.head as Entry;
        const others = this.#cliqueFor(cls, mates, head.seq, budget);
        if (others !== undefined) return [head, ...others];
      }
    }
    return undefined;
  }

  #bucketFor(req: PendingRequest): Bucket {
    const { spec, params: { event } } = req;
    const specKey = specKeyOf(spec);
    let byEvent = this.#buckets.get(specKey);
    if (byEvent === undefined) this.#buckets.set(specKey, (byEvent = new Map()));
    let bucket = byEvent.get(event);
    if (bucket === undefined) {
      bucket = {
        event, specKey, spec, classes: new IdleMap(isIdleClass), families: new IdleMap(isIdleFamily), index: undefined,
        window: undefined, possible: isRange(spec) ? new Set() : undefined,
      };
      byEvent.set(event, bucket);
    }
    return bucket;
  }

  #classFor(bucket: Bucket, classKey: string, labels: Labels, selector: Selector): RequestClass {
    let cls = bucket.classes.get(classKey);
    if (cls === undefined) {
      cls = {
        key: classKey, bucket, family: this.#familyFor(bucket, selector), attached: true, labels, selector,
        head: undefined, tail: undefined, size: 0, selfCompatible: undefined,
      };
      bucket.classes.set(classKey, cls);
      this.#join(cls);
    } else if (!cls.attached) {
      bucket.classes.cameBack();
      cls.attached = true;
      cls.family = this.#familyFor(bucket, cls.selector, cls.family);
      this.#join(cls);
    }
    return cls;
  }

  /**
   * The bucket's family of `selector`, made if there is none. `last`: the family a class coming back last had
   * (the same selector), whose key is reused: an actor's class comes back with each of its requests.
   */
  #familyFor(bucket: Bucket, selector: Selector, last?: Family): Family {
    const familyKey = last?.key ?? selectorKeyOf(selector);
    let family = bucket.families.get(familyKey);
    if (family === undefined) {
      family = { key: familyKey, selector, anchor: anchorOf(selector), classes: new Set(), byLabel: undefined };
      bucket.families.set(familyKey, family);
      if (bucket.index !== undefined) bucket.index.add(family);
      else if (bucket.families.size > 1) {
        bucket.index = FamilyIndex.of([...bucket.families.values()].filter((f) => f === family || f.classes.size > 0));
      }
    } else if (family.classes.size === 0) {
      // An idle family is back: into the index again (see #dropClass).
      bucket.families.cameBack();
      bucket.index?.add(family);
    }
    return family;
  }

  /** File an attached class in its family. */
  #join(cls: RequestClass): void {
    const family = cls.family;
    family.classes.add(cls);
    if (family.byLabel !== undefined) fileByLabels(family.byLabel, cls);
    else if (family.classes.size > 1) {
      family.byLabel = new ValueIndex();
      for (const member of family.classes) fileByLabels(family.byLabel, member);
    }
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

  /**
   * The `mates` pending requests that, with a request of class `cls`, form a clique and come earliest by
   * arrival (lexicographically), among those that arrived after `afterSeq`. Only the first `mates` of each
   * compatible class can be in it, since members of one class are interchangeable. Depth-first in arrival
   * order, so the first clique found is the earliest. The search is bounded: past the budget the request
   * waits as if no group existed, so a pathological backlog costs bounded time per arrival. `self`, when
   * linked in its class, is never its own mate.
   */
  #cliqueFor(cls: RequestClass, mates: number, afterSeq: number, budget: Budget, self?: Entry): Entry[] | undefined {
    if (mates === 0) return [];
    if (mates === 1 && afterSeq === 0) return this.#oldestPartner(cls, self);
    const candidates: Entry[] = [];
    for (const family of this.#familiesFor(cls)) {
      if (family.classes.size === 0 || !family.selector.matches(cls.labels)) continue;
      for (const other of this.#classesFor(family, cls)) {
        if (other.head === undefined || !cls.selector.matches(other.labels)) continue;
        let taken = 0;
        for (let e: Entry | undefined = other.head; e !== undefined && taken < mates; e = e.next) {
          if (e.seq <= afterSeq || e === self) {
            if (--budget.steps < 0) return undefined;
            continue;
          }
          candidates.push(e);
          taken++;
        }
      }
    }
    if (candidates.length < mates) return undefined;
    candidates.sort((a, b) => a.seq - b.seq);
    const memo = new VerdictMemo();
    const chosen: Entry[] = [];
    const search = (from: number): boolean => {
      if (chosen.length === mates) return true;
      for (let i = from; i <= candidates.length - (mates - chosen.length); i++) {
        if (--budget.steps < 0) return false;
        const candidate = candidates[i] as Entry;
        if (!chosen.every((c) => memo.compatible(c.cls, candidate.cls))) continue;
        chosen.push(candidate);
        if (search(i + 1)) return true;
        chosen.pop();
        if (budget.steps < 0) return false;
      }
      return false;
    };
    return search(0) ? chosen : undefined;
  }

  /** The oldest pending request a request of class `cls` is compatible with (a class may be compatible with itself). */
  #oldestPartner(cls: RequestClass, self: Entry | undefined): Entry[] | undefined {
    let best: Entry | undefined;
    for (const family of this.#familiesFor(cls)) {
      if (family.classes.size === 0 || !family.selector.matches(cls.labels)) continue;
      for (const other of this.#classesFor(family, cls)) {
        const head = other.head === self ? self?.next : other.head;
        if (head === undefined || (best !== undefined && head.seq > best.seq)) continue;
        if (cls.selector.matches(other.labels)) best = head;
      }
    }
    return best === undefined ? undefined : [best];
  }

  /** File `entry` in its class's FIFO at its place by arrival sequence (a changed stage keeps an old one). */
  #link(entry: Entry): void {
    const cls = entry.cls;
    let after = cls.tail;
    // A newcomer goes last; an entry whose stage changed is older than most, so walk from the back only while needed.
    while (after !== undefined && after.seq > entry.seq) after = after.prev;
    entry.prev = after;
    entry.next = after === undefined ? cls.head : after.next;
    if (entry.prev === undefined) cls.head = entry;
    else entry.prev.next = entry;
    if (entry.next === undefined) cls.tail = entry;
    else entry.next.prev = entry;
    cls.size++;
    this.#entries.set(entry.req.id, entry);
  }

  #unlink(entry: Entry): void {
    const cls = entry.cls;
    cls.bucket.possible?.delete(entry);
    if (entry.prev === undefined) cls.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) cls.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = entry.next = undefined;
    cls.size--;
    this.#entries.delete(entry.req.id);
  }

  /** An empty class leaves its family and turns idle, and so does a family left without classes (IdleMap). */
  #dropClass(cls: RequestClass, dropBucket = true): void {
    if (!cls.attached) return;
    const bucket = cls.bucket;
    cls.attached = false;
    bucket.classes.wentIdle();
    const family = cls.family;
    if (family.classes.delete(cls)) {
      if (family.byLabel !== undefined) unfileByLabels(family.byLabel, cls);
      if (family.classes.size === 0) {
        // A family left with one class keeps its label index: it is rebuilt only when it grows past one.
        family.byLabel = undefined;
        // Out of the index while idle: idle families are kept until they outnumber live ones, and an index
        // that still held them would hand every arrival up to that many empty families to skip (each
        // newcomer with its own default selector `actor!=<actor>` leaves one behind).
        bucket.index?.remove(family);
        bucket.families.wentIdle();
      }
    }
    if (dropBucket) this.#dropBucketIfEmpty(bucket);
  }

  /** Forget a bucket without pending requests (and so without a window). */
  #dropBucketIfEmpty(bucket: Bucket): void {
    if (bucket.classes.live !== 0 || bucket.window !== undefined) return;
    const byEvent = this.#buckets.get(bucket.specKey);
    if (byEvent?.get(bucket.event) !== bucket) return;
    byEvent.delete(bucket.event);
    if (byEvent.size === 0) this.#buckets.delete(bucket.specKey);
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

function isIdleClass(cls: RequestClass): boolean {
  return !cls.attached;
}

function isIdleFamily(family: Family): boolean {
  return family.classes.size === 0;
}

/** What a group's members receive about each other; `stage` only for a request that widens. */
function memberOf({ req: { id, params, stages }, stage }: Entry): GroupMember {
  const { actor, payload, labels } = params;
  return stages.length === 0 ? { id, actor, payload, labels } : { id, actor, payload, labels, stage };
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
