// Matching rules both stores share: the group search budget, how selectors fall into families, and their anchors.
import type { Requirement, Selector } from '../selector/types';
import type { GroupSpec } from './types';

/** Most search steps spent looking for a group of three or more for one arrival. */
export const GROUP_SEARCH_BUDGET = 10_000;

/**
 * The requirement of `selector` that a label set must meet with one of a few values: `=`, `==` or `in`
 * (the one with fewest values, so a family is filed under as few values as possible). Undefined when there
 * is none (`!=`, `notin`, `exists`, `!`, `>`, `<` or the empty selector): such a family is always looked at.
 */
export function anchorOf(selector: Selector): Requirement | undefined {
  let anchor: Requirement | undefined;
  for (const r of selector.requirements) {
    if (r.operator !== '=' && r.operator !== '==' && r.operator !== 'in') continue;
    if (anchor === undefined || r.values.length < anchor.values.length) anchor = r;
  }
  return anchor;
}

/** Selectors with equal keys accept the same labels (JSON keeps values holding separators unambiguous). */
export function selectorKeyOf(selector: Selector): string {
  return JSON.stringify(selector.requirements.map((r) => [r.key, r.operator === '==' ? '=' : r.operator, r.values]));
}

/**
 * The spec part of a bucket key: `"N"` for an exact count, `"MIN..MAX~LINGERMS"` for a range. Requests meet
 * only requests with the same key (README, mate ranges).
 */
export function specKeyOf(spec: GroupSpec): string {
  return spec.min === spec.max ? String(spec.min) : `${spec.min}..${spec.max}~${spec.lingerMs}`;
}

/** Whether the spec is a range (with a linger window) rather than an exact count. */
export function isRange(spec: GroupSpec): boolean {
  return spec.min < spec.max;
}
