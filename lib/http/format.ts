// The two data formats of the HTTP API and how `input`/`output` values name them.
import { errors } from '../errors';

/** A body or answer format. */
export type Format = 'json' | 'yaml';

/** The format an `input` or `output` control names; anything but `json` or `yaml` is a bad request. */
export function formatOf(value: unknown, control: 'input' | 'output'): Format {
  if (value === 'json' || value === 'yaml') return value;
  throw errors.badRequest(`${control} must be yaml or json, got ${describeValue(value)}`);
}

/** A short description of a value a client sent, for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value;
}
