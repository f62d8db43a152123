// Writes answers: a match (serialised once per group and format), /stats, and errors, as JSON or YAML.
import type { Response } from 'express';
import { ERROR_STATUS, errors, isNetsyncError } from '../errors';
import type { Match } from '../types';
import type { Format } from './format';
import { dumpYaml } from './yaml';

const CONTENT_TYPE: Readonly<Record<Format, string>> = {
  json: 'application/json; charset=utf-8',
  yaml: 'application/yaml; charset=utf-8',
};

/** What the client sees for a failure that is not a NetsyncError: no message or stack of the internals. */
const INTERNAL_ERROR = errors.internal().toJSON();

/**
 * Text of `value` in `format`, ending with a line break: two answers printed one after the other (two curls in
 * one terminal) stay on lines of their own, and a shell prompt starts on a fresh line.
 */
export function serialize(value: unknown, format: Format): string {
  if (format === 'json') return `${JSON.stringify(value)}\n`;
  const text = dumpYaml(value);
  return text.endsWith('\n') ? text : `${text}\n`;
}

/**
 * Serialises each Match once per format: every member of a group receives the same Match object,
 * so the second and later members of a group reuse the first member's text.
 */
export class MatchSerializer {
  private readonly cache: Record<Format, WeakMap<Match, string>> = { json: new WeakMap(), yaml: new WeakMap() };

  /** The text of `match` in `format`. */
  text(match: Match, format: Format): string {
    const cache = this.cache[format];
    let text = cache.get(match);
    if (text === undefined) {
      text = serialize(match, format);
      cache.set(match, text);
    }
    return text;
  }
}

/** Send `text` with `status`, unless the client is gone or an answer already started. */
export function writeText(res: Response, status: number, format: Format, text: string, headers?: Record<string, string>): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  // One writeHead call rather than a setHeader per field. Answers of a rendezvous are never reusable, even for GET.
  const fields: Record<string, string | number> = {
    'Content-Type': CONTENT_TYPE[format],
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  };
  if (headers !== undefined) Object.assign(fields, headers);
  res.writeHead(status, fields);
  res.end(text);
}

/**
 * Answer an error: a NetsyncError with its status and code (and `Retry-After` when it has one), body-parser's
 * errors as `too_large` or `bad_request`, anything else as a bare 500. `extraHeaders` are what the route adds to
 * a NetsyncError's answer, such as `Allow`.
 */
export function writeError(res: Response, error: unknown, format: Format, extraHeaders?: Record<string, string>): void {
  if (isNetsyncError(error)) {
    const headers = error.retryAfter === undefined ? extraHeaders : { ...extraHeaders, 'Retry-After': String(Math.max(0, Math.ceil(error.retryAfter))) };
    writeText(res, error.status, format, safeSerialize(error.toJSON(), format), headers);
    return;
  }
  writeText(res, ERROR_STATUS.internal, format, safeSerialize(INTERNAL_ERROR, format));
}

function safeSerialize(value: unknown, format: Format): string {
  try {
    return serialize(value, format);
  } catch {
    return `${JSON.stringify(INTERNAL_ERROR)}\n`;
  }
}
