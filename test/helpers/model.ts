// A brute-force reference of the matching rules (ARCHITECTURE.md, matching rules), written independently of the engine, for model-based tests.

/** Labels as the model keeps them. */
export type ModelLabels = Readonly<Record<string, string>>;

/** A selector the model understands: its text for netsync and a hand-written predicate. `text: undefined` is the default. */
export interface ModelSelector {
  readonly text: string | undefined;
  readonly test: (labels: ModelLabels, self: ModelRequest) => boolean;
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
