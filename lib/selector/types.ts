// The shapes shared by the selector grammar and everything that matches on labels.

/** A set of labels: key → value. Objects made by netsync have no prototype, so `constructor` is plain data. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Selector operators, spelled as Kubernetes prints them in a canonical selector
 * (`exists` and `!` have no value; `>` and `<` take exactly one integer).
 */
export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | '>' | '<';

/** One clause of a selector; a selector is the AND of its requirements. */
export interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  /** Sorted and de-duplicated for `in`/`notin`; one value for `=`, `==`, `!=`, `>`, `<`; empty for `exists`/`!`. */
  readonly values: readonly string[];
}

/** A compiled label selector. */
export interface Selector {
  /** Requirements sorted by key (stable), as in the canonical string. */
  readonly requirements: readonly Requirement[];
  /** True when every requirement holds for `labels`. Allocates nothing. */
  matches(labels: Labels): boolean;
  /** The Kubernetes canonical form, e.g. `a=x,b in (1,2),!c`. The empty selector prints as ''. */
  toString(): string;
}
