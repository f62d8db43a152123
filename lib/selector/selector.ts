// A compiled selector: requirements sorted by key, matched without allocating, printed canonically.
import { compareDecimal, parseDecimal, type DecimalInt } from './int64';
import { compareBytewise, formatRequirement } from './requirement';
import { sortByKey } from './sort';
import type { Labels, Requirement, Selector } from './types';

const IN = 0; // also = and ==
const NOT_IN = 1; // also !=
const EXISTS = 2;
const DOES_NOT_EXIST = 3;
const GREATER = 4;
const LESS = 5;

// One requirement prepared for matching: values in a Set (or a lone string), the integer bound parsed once.
class Clause {
  private readonly code: number;
  private readonly single: string | undefined;
  private readonly set: ReadonlySet<string> | undefined;
  private readonly bound: DecimalInt | undefined;

  constructor(private readonly key: string, requirement: Requirement) {
    const { operator, values } = requirement;
    switch (operator) {
      case 'in': case '=': case '==': this.code = IN; break;
      case 'notin': case '!=': this.code = NOT_IN; break;
      case 'exists': this.code = EXISTS; break;
      case '!': this.code = DOES_NOT_EXIST; break;
      case '>': this.code = GREATER; break;
      case '<': this.code = LESS; break;
    }
    this.single = values.length === 1 ? values[0] : undefined;
    this.set = values.length === 1 ? undefined : new Set(values);
    // Kubernetes matches nothing when the bound is not exactly one int64 (possible only via selectorOf).
    this.bound = (this.code === GREATER || this.code === LESS) && values.length === 1 ? parseDecimal(values[0] as string) : undefined;
  }

  matches(labels: Labels): boolean {
    // Own properties only: `constructor` or `__proto__` must never reach Object.prototype.
    const present = Object.hasOwn(labels, this.key);
    switch (this.code) {
      case IN: return present && this.contains(labels[this.key]);
      case NOT_IN: return !present || !this.contains(labels[this.key]);
      case EXISTS: return present;
      case DOES_NOT_EXIST: return !present;
      default: {
        if (!present || this.bound === undefined) return false;
        const value: unknown = labels[this.key];
        if (typeof value !== 'string') return false;
        const order = compareDecimal(value, this.bound);
        return this.code === GREATER ? order > 0 : order < 0;
      }
    }
  }

  private contains(value: unknown): boolean {
    if (this.single !== undefined) return value === this.single;
    return typeof value === 'string' && (this.set as ReadonlySet<string>).has(value);
  }
}

class CompiledSelector implements Selector {
  readonly requirements: readonly Requirement[];
  private readonly clauses: readonly Clause[];
  private readonly text: string;

  constructor(requirements: readonly Requirement[]) {
    this.requirements = Object.freeze(requirements);
    this.clauses = requirements.map((r) => new Clause(r.key, r));
    this.text = requirements.map(formatRequirement).join(',');
  }

  matches(labels: Labels): boolean {
    const clauses = this.clauses;
    for (let i = 0; i < clauses.length; i++) {
      if (!(clauses[i] as Clause).matches(labels)) return false;
    }
    return true;
  }

  toString(): string {
    return this.text;
  }

  /** Serialises as the canonical string. */
  toJSON(): string {
    return this.text;
  }
}

/** Compiles requirements (already checked, values already normalised) into a Selector sorted as Kubernetes sorts. */
export function compileSelector(requirements: readonly Requirement[]): Selector {
  const frozen = requirements.map((r) => Object.freeze({ key: r.key, operator: r.operator, values: Object.freeze([...r.values]) }));
  return new CompiledSelector(sortByKey(frozen, (a, b) => compareBytewise(a.key, b.key)));
}
