// STUB — replaced by the selector implementation (lexer → parser → requirements → matcher).
import type { Labels, Requirement, Selector } from './types';

export type { Labels, Operator, Requirement, Selector } from './types';

/** A selector or label text that does not follow Kubernetes syntax. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  /** Zero-based offset in the input where the problem was found. */
  readonly position: number;
  /** What the parser expected there, e.g. `identifier`. */
  readonly expected: string | undefined;
  constructor(message: string, position: number, expected?: string) {
    super(message);
    this.position = position;
    this.expected = expected;
  }
}

/** Parse a Kubernetes label selector (`actor != p1`, `kind in (player,bot),!banned`, `level>3`). Throws SelectorError. */
export function parseSelector(_text: string): Selector {
  throw new Error('not implemented');
}

/** Build a selector from requirements without parsing text, e.g. `actor != <any actor name>`. Values are not validated. */
export function selectorOf(_requirements: readonly Requirement[]): Selector {
  throw new Error('not implemented');
}

/** Parse `k1=v1,k2=v2` into labels (null-prototype object). Throws SelectorError. */
export function parseLabels(_text: string): Labels {
  throw new Error('not implemented');
}

/** Validate a label map (keys and values by Kubernetes rules); returns a null-prototype copy. Throws SelectorError. */
export function validateLabels(_labels: Readonly<Record<string, string>>): Labels {
  throw new Error('not implemented');
}
