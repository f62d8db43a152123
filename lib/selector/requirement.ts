// The rules a requirement must follow (Kubernetes NewRequirement) and its canonical spelling.
import { parseDecimal } from './int64';
import type { Operator, Requirement } from './types';
import { labelKeyProblem, labelValueProblem } from './validation';

/** What is wrong with a requirement; `valueIndex` names the offending value, otherwise the key or value count is at fault. */
export interface RequirementProblem {
  readonly message: string;
  readonly valueIndex?: number;
}

/** Checks a requirement as Kubernetes' NewRequirement does; undefined when it is valid. */
export function requirementProblem(key: string, operator: Operator, values: readonly string[]): RequirementProblem | undefined {
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) return { message: `invalid label key ${JSON.stringify(key)}: ${keyProblem}` };
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) return { message: `'${operator}' needs at least one value for key ${JSON.stringify(key)}` };
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) return { message: `'${operator}' needs exactly one value for key ${JSON.stringify(key)}` };
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) return { message: `'${operator}' takes no value for key ${JSON.stringify(key)}` };
      break;
    case '>':
    case '<':
      if (values.length !== 1) return { message: `'${operator}' needs exactly one value for key ${JSON.stringify(key)}` };
      for (let i = 0; i < values.length; i++) {
        if (parseDecimal(values[i] as string) === undefined) {
          return { message: `'${operator}' needs an integer (int64) for key ${JSON.stringify(key)}, not ${JSON.stringify(values[i])}`, valueIndex: i };
        }
      }
      break;
    default:
      return { message: `unknown operator ${JSON.stringify(operator)}` };
  }
  for (let i = 0; i < values.length; i++) {
    const problem = labelValueProblem(values[i] as string);
    if (problem !== undefined) {
      return { message: `invalid value ${JSON.stringify(values[i])} for key ${JSON.stringify(key)}: ${problem}`, valueIndex: i };
    }
  }
  return undefined;
}

/**
 * Compares as Go compares strings (bytewise UTF-8), which for UTF-16 means code point order:
 * surrogates sort after U+E000..U+FFFF.
 */
export function compareBytewise(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** The values sorted bytewise with duplicates removed, as Kubernetes' string sets list them. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareBytewise);
}

/** The canonical spelling of one requirement, e.g. `!a`, `a`, `a!=x`, `a in (x,y)`. */
export function formatRequirement(requirement: Requirement): string {
  const { key, operator, values } = requirement;
  if (operator === '!') return `!${key}`;
  if (operator === 'exists') return key;
  // Kubernetes prints a lone value as is and sorts only lists.
  const list = values.length === 1 ? (values[0] as string) : [...values].sort(compareBytewise).join(',');
  if (operator === 'in' || operator === 'notin') return `${key} ${operator} (${list})`;
  return `${key}${operator}${list}`;
}
