// A brute-force reference of the matching rules (ARCHITECTURE.md, matching rules), written independently of the engine, for model-based tests.

/** Labels as the model keeps them. */
export type ModelLabels = Readonly<Record<string, string>>;

/** A selector the model understands: its text for netsync and a hand-written predicate. `text: undefined` is the default. */
export interface ModelSelector {
  readonly text: string | undefined;
  readonly test: (labels: ModelLabels, self: { readonly actor: string }) => boolean;
}

/** A request as the model sees it. */
export interface ModelRequest {
  /** Arrival number, also sent as the payload so results name their members. */
  readonly n: number;
  readonly event: string;
  readonly actor: string;
  readonly mates: number;
  /** Including the actor label. */
  readonly labels: ModelLabels;
  readonly selector: ModelSelector;
}

/** Selectors the generators pick from, each with its meaning spelled out by hand. */
export const MODEL_SELECTORS: readonly ModelSelector[] = [
  { text: undefined, test: (l, self) => l.actor !== self.actor },
  { text: 'actor', test: () => true },
  { text: 'team=red', test: (l) => l.team === 'red' },
  { text: 'team!=red', test: (l) => l.team !== 'red' },
  { text: 'team in (red,blue)', test: (l) => l.team === 'red' || l.team === 'blue' },
  { text: 'role notin (host)', test: (l) => l.role !== 'host' },
  { text: '!role', test: (l) => l.role === undefined },
  { text: 'role', test: (l) => l.role !== undefined },
  { text: 'role=host,team!=blue', test: (l) => l.role === 'host' && l.team !== 'blue' },
];

/** Extra label sets the generators pick from (the actor label is added). */
export const MODEL_LABEL_SETS: readonly ModelLabels[] = [
  {},
  { team: 'red' },
  { team: 'blue' },
  { team: 'red', role: 'host' },
  { role: 'host' },
  { team: 'green', role: 'guest' },
];

/** Each one's selector matches the other's labels, same event and same mates. */
export function modelCompatible(a: ModelRequest, b: ModelRequest): boolean {
  return a.event === b.event && a.mates === b.mates && a.selector.test(b.labels, a) && b.selector.test(a.labels, b);
}

/** The pending requests in arrival order; `arrive` forms the lexicographically earliest clique by arrival. */
export class MatchModel {
  pending: ModelRequest[] = [];

  /** The group (arrival order, newcomer last) the newcomer forms, or undefined when it waits. */
  arrive(req: ModelRequest): ModelRequest[] | undefined {
    const candidates = this.pending.filter((p) => modelCompatible(p, req));
    const chosen: ModelRequest[] = [];
    const search = (from: number): boolean => {
      if (chosen.length === req.mates) return true;
      for (let i = from; i < candidates.length; i++) {
        const c = candidates[i] as ModelRequest;
        if (!chosen.every((x) => modelCompatible(x, c))) continue;
        chosen.push(c);
        if (search(i + 1)) return true;
        chosen.pop();
      }
      return false;
    };
    if (!search(0)) {
      this.pending.push(req);
      return undefined;
    }
    const taken = new Set(chosen);
    this.pending = this.pending.filter((p) => !taken.has(p));
    return [...chosen, req];
  }

  /** Remove a pending request; true if it was pending. */
  withdraw(n: number): boolean {
    const before = this.pending.length;
    this.pending = this.pending.filter((p) => p.n !== n);
    return this.pending.length < before;
  }
}

/** A mates spec as the model keeps it: exact when min = max (linger 0). */
export interface ModelSpec {
  readonly min: number;
  readonly max: number;
  readonly linger: number;
}

/** A request with a spec and widening stages, for the model of ranges and widening. */
export interface FlexRequest {
  readonly n: number;
  readonly event: string;
  readonly actor: string;
  readonly spec: ModelSpec;
  readonly labels: ModelLabels;
  readonly selector: ModelSelector;
  /** Stages by increasing `after` (ms since arrival). */
  readonly stages: readonly { readonly after: number; readonly selector: ModelSelector }[];
  /** Arrival time on the model's clock. */
  readonly at: number;
}

/** What the model did: a group formed (members in arrival order). */
export type FlexGroup = readonly FlexRequest[];

function sameSpec(a: ModelSpec, b: ModelSpec): boolean {
  return a.min === b.min && a.max === b.max && a.linger === b.linger;
}

/**
 * The rules of mate ranges and widening, by brute force over every subset, on a clock the test moves:
 * a full MAX+1 group forms when an arrival or stage change makes it possible (the earliest by arrival,
 * lexicographically); a bucket whose pending requests hold a group of MIN+1 has a window, opened when such a
 * group first became possible and closed when none is; when it ends, the largest group then possible forms
 * (the earliest of that size), and a new window opens if a group is still possible.
 */
export class FlexModel {
  now = 0;
  /** Pending requests in arrival order, with their current stage. */
  pending: { req: FlexRequest; stage: number }[] = [];
  /** Open windows by bucket: their deadlines. */
  readonly windows = new Map<string, number>();

  selectorOf(p: { req: FlexRequest; stage: number }): ModelSelector {
    return p.stage === 0 ? p.req.selector : (p.req.stages[p.stage - 1] as { selector: ModelSelector }).selector;
  }

  compatible(a: { req: FlexRequest; stage: number }, b: { req: FlexRequest; stage: number }): boolean {
    return a.req.event === b.req.event && sameSpec(a.req.spec, b.req.spec)
      && this.selectorOf(a).test(b.req.labels, a.req) && this.selectorOf(b).test(a.req.labels, b.req);
  }

  static bucketOf(req: FlexRequest): string {
    return `${req.event}|${req.spec.min}|${req.spec.max}|${req.spec.linger}`;
  }

  /** The earliest clique of `size` among `pool` (arrival order) that includes every one of `must`. */
  #earliestClique(pool: { req: FlexRequest; stage: number }[], size: number, must?: { req: FlexRequest; stage: number }): FlexRequest[] | undefined {
    const chosen: { req: FlexRequest; stage: number }[] = [];
    const search = (from: number): boolean => {
      if (chosen.length === size) return must === undefined || chosen.includes(must);
      for (let i = from; i < pool.length; i++) {
        const c = pool[i] as { req: FlexRequest; stage: number };
        if (!chosen.every((x) => this.compatible(x, c))) continue;
        chosen.push(c);
        if (search(i + 1)) return true;
        chosen.pop();
      }
      return false;
    };
    return search(0) ? chosen.map((c) => c.req) : undefined;
  }

  #bucketPool(bucket: string): { req: FlexRequest; stage: number }[] {
    return this.pending.filter((p) => FlexModel.bucketOf(p.req) === bucket);
  }

  #take(group: FlexRequest[]): FlexGroup {
    const taken = new Set(group);
    this.pending = this.pending.filter((p) => !taken.has(p.req));
    return [...group].sort((a, b) => a.n - b.n);
  }

  /** Open or close the bucket's window to match what is possible now. */
  #settleWindow(bucket: string, spec: ModelSpec): void {
    if (spec.min === spec.max) return;
    const possible = this.#earliestClique(this.#bucketPool(bucket), spec.min + 1) !== undefined;
    if (!possible) this.windows.delete(bucket);
    else if (!this.windows.has(bucket)) this.windows.set(bucket, this.now + spec.linger);
  }

  /** A request arrives (or its stage changes): the full group it completes, if any. */
  #search(entry: { req: FlexRequest; stage: number }): FlexGroup | undefined {
    const bucket = FlexModel.bucketOf(entry.req);
    const pool = [...this.#bucketPool(bucket).filter((p) => p !== entry), entry].sort((a, b) => a.req.n - b.req.n);
    const group = this.#earliestOthersClique(pool, entry);
    if (group !== undefined) {
      const formed = this.#take(group);
      this.#settleWindow(bucket, entry.req.spec);
      return formed;
    }
    if (!this.pending.includes(entry)) {
      this.pending.push(entry);
      this.pending.sort((a, b) => a.req.n - b.req.n);
    }
    this.#settleWindow(bucket, entry.req.spec);
    return undefined;
  }

  /** The earliest MAX others (by arrival, lexicographically) that form a clique with `entry`. */
  #earliestOthersClique(pool: { req: FlexRequest; stage: number }[], entry: { req: FlexRequest; stage: number }): FlexRequest[] | undefined {
    const others = pool.filter((p) => p !== entry && this.compatible(p, entry));
    const mates = entry.req.spec.max;
    const chosen: { req: FlexRequest; stage: number }[] = [];
    const search = (from: number): boolean => {
      if (chosen.length === mates) return true;
      for (let i = from; i < others.length; i++) {
        const c = others[i] as { req: FlexRequest; stage: number };
        if (!chosen.every((x) => this.compatible(x, c))) continue;
        chosen.push(c);
        if (search(i + 1)) return true;
        chosen.pop();
      }
      return false;
    };
    return search(0) ? [...chosen.map((c) => c.req), entry.req] : undefined;
  }

  arrive(req: FlexRequest): FlexGroup | undefined {
    return this.#search({ req, stage: 0 });
  }

  /** A pending request reaches `stage`; the group it completes, if any. */
  widen(n: number, stage: number): FlexGroup | undefined {
    const entry = this.pending.find((p) => p.req.n === n);
    if (entry === undefined || stage <= entry.stage) return undefined;
    entry.stage = stage;
    return this.#search(entry);
  }

  withdraw(n: number): boolean {
    const entry = this.pending.find((p) => p.req.n === n);
    if (entry === undefined) return false;
    this.pending = this.pending.filter((p) => p !== entry);
    this.#settleWindow(FlexModel.bucketOf(entry.req), entry.req.spec);
    return true;
  }

  /** The earliest deadline of an open window, if any. */
  nextDeadline(): { bucket: string; at: number } | undefined {
    let next: { bucket: string; at: number } | undefined;
    for (const [bucket, at] of this.windows) if (next === undefined || at < next.at) next = { bucket, at };
    return next;
  }

  /** The window of `bucket` ends now: the group it forms, if any. */
  windowEnds(bucket: string): FlexGroup | undefined {
    this.windows.delete(bucket);
    const pool = this.#bucketPool(bucket);
    const spec = pool[0]?.req.spec;
    if (spec === undefined) return undefined;
    for (let size = spec.max + 1; size >= spec.min + 1; size--) {
      const group = this.#earliestClique(pool, size);
      if (group !== undefined) {
        const formed = this.#take(group);
        this.#settleWindow(bucket, spec);
        return formed;
      }
    }
    return undefined;
  }
}
