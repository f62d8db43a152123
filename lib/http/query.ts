// Reads the query string of a request the same way on Express 4 (`qs`) and 5 (`querystring`).
import type { Request } from 'express';
import { errors } from '../errors';

/** Fields as a null-prototype map, so a `__proto__` or `constructor` field stays a plain entry. */
export type Fields = Record<string, unknown>;

/** Runs of %-escapes: the bytes of one character are always escaped side by side. */
const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/** Fields that may be given more than once (`widen=10s:level>1&widen=30s:`): they become a list in order. */
const REPEATABLE: ReadonlySet<string> = new Set(['widen']);

/**
 * Fields of a `a=1&b=2` string; a field given twice is a bad request (which one would be meant?) unless it is
 * a list (`widen`), and so are %-escapes that are no UTF-8 text.
 */
export function parseUrlEncoded(text: string, where: string): Fields {
  // URLSearchParams would turn such bytes into U+FFFD, so that two different names (`e%ED%A0%80`, `e%FF`) read alike.
  if (text.includes('%') && !escapesAreUtf8(text)) {
    throw errors.badRequest(`the ${where} is not valid UTF-8: a %-escape names bytes that are no UTF-8 text`);
  }
  const fields: Fields = Object.create(null) as Fields;
  for (const [key, value] of new URLSearchParams(text)) {
    if (REPEATABLE.has(key)) {
      // An empty item counts as not given, like any empty optional field.
      if (value !== '') ((fields[key] ??= []) as string[]).push(value);
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(fields, key)) {
      throw errors.badRequest(`field ${JSON.stringify(key)} is given more than once in the ${where}`);
    }
    fields[key] = value;
  }
  return fields;
}

/** The query string fields of `req`, from its original URL. */
export function queryFields(req: Request): Fields {
  const url = req.originalUrl || req.url || '';
  const mark = url.indexOf('?');
  return mark < 0 ? (Object.create(null) as Fields) : parseUrlEncoded(url.slice(mark + 1), 'query string');
}

function escapesAreUtf8(text: string): boolean {
  for (const run of text.match(ESCAPE_RUN) ?? []) {
    try {
      decodeURIComponent(run);
    } catch {
      return false;
    }
  }
  return true;
}
