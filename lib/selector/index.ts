// The label-selector engine: Kubernetes selector grammar, label validation and matching.
import { SelectorError } from './error';
import { parseRequirements } from './parser';
import { sortedUnique } from './requirement';
import { compileSelector } from './selector';
import type { Requirement, Selector } from './types';

export type { Labels, Operator, Requirement, Selector } from './types';
export { SelectorError } from './error';
export { isValidLabelKey, isValidLabelValue } from './validation';
export { parseLabels, validateLabels } from './labels';

/** Parse a Kubernetes label selector (`actor != p1`, `kind in (player,bot),!banned`, `level>3`). Throws SelectorError. */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') throw new SelectorError('a selector must be a string', 0, 'string');
  return compileSelector(parseRequirements(text));
}

/** Build a selector from requirements without parsing text, e.g. `actor != <any actor name>`. Values are not validated. */
export function selectorOf(requirements: readonly Requirement[]): Selector {
  return compileSelector(requirements.map((r) => ({
    key: r.key,
    operator: r.operator,
    values: r.operator === 'in' || r.operator === 'notin' ? sortedUnique(r.values) : [...r.values],
  })));
}
