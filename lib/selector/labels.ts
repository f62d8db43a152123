// Label sets from `k1=v1,k2=v2` text or from a map, checked by Kubernetes rules, as null-prototype objects.
import { SelectorError } from './error';
import type { Labels } from './types';
import { labelKeyProblem, labelValueProblem } from './validation';

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

// [from, to) of text with the selector whitespace trimmed off both ends.
function trimmed(text: string, from: number, to: number): [number, number] {
  while (from < to && isWhitespace(text.charCodeAt(from))) from++;
  while (to > from && isWhitespace(text.charCodeAt(to - 1))) to--;
  return [from, to];
}

function check(labels: Record<string, string>, key: string, value: string, keyAt: number, valueAt: number): void {
  const keyProblem = labelKeyProblem(key);
  if (keyProblem !== undefined) {
    throw new SelectorError(`invalid label key ${JSON.stringify(key)}: ${keyProblem} at ${keyAt}`, keyAt, 'label key');
  }
  const valueProblem = labelValueProblem(value);
  if (valueProblem !== undefined) {
    throw new SelectorError(`invalid value ${JSON.stringify(value)} for label ${JSON.stringify(key)}: ${valueProblem} at ${valueAt}`, valueAt, 'label value');
  }
  if (Object.hasOwn(labels, key)) {
    throw new SelectorError(`duplicate label key ${JSON.stringify(key)} at ${keyAt}`, keyAt, 'a key not given before');
  }
  labels[key] = value;
}

/** Parse `k1=v1,k2=v2` into labels (null-prototype object); whitespace around keys and values is ignored. Throws SelectorError. */
export function parseLabels(text: string): Labels {
  if (typeof text !== 'string') throw new SelectorError('labels must be a string', 0, 'string');
  const labels: Record<string, string> = Object.create(null) as Record<string, string>;
  const [start, end] = trimmed(text, 0, text.length);
  if (start === end) return labels;
  let from = 0;
  while (from <= text.length) {
    let to = text.indexOf(',', from);
    if (to === -1) to = text.length;
    let equals = -1;
    let count = 0;
    for (let i = from; i < to; i++) {
      if (text.charCodeAt(i) === 0x3d) {
        if (count++ === 0) equals = i;
      }
    }
    if (count !== 1) {
      const [at] = trimmed(text, from, to);
      throw new SelectorError(`expected key=value at ${at}, found ${JSON.stringify(text.slice(from, to))}`, at, 'key=value');
    }
    const [keyFrom, keyTo] = trimmed(text, from, equals);
    const [valueFrom, valueTo] = trimmed(text, equals + 1, to);
    check(labels, text.slice(keyFrom, keyTo), text.slice(valueFrom, valueTo), keyFrom, valueFrom);
    from = to + 1;
  }
  return labels;
}

/** Validate a label map (keys and values by Kubernetes rules, values must be strings); returns a null-prototype copy. Throws SelectorError. */
export function validateLabels(labels: Readonly<Record<string, string>>): Labels {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new SelectorError('labels must be a map of key to value', 0, 'a map');
  }
  const copy: Record<string, string> = Object.create(null) as Record<string, string>;
  const keys = Object.keys(labels);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value: unknown = labels[key];
    if (typeof value !== 'string') {
      throw new SelectorError(`label ${JSON.stringify(key)} must have a string value, not ${value === null ? 'null' : typeof value}`, i, 'string');
    }
    check(copy, key, value, i, i);
  }
  return copy;
}
