// Reads the query string of a request the same way on Express 4 (`qs`) and 5 (`querystring`).
import type { Request } from 'express';
import { errors } from '../errors';

/** Fields as a null-prototype map, so a `__proto__` or `constructor` field stays a plain entry. */
export type Fields = Record<string, unknown>;

/** Fields of a `a=1&b=2` string; a field given twice is a bad request (which one would be meant?). */
export function parseUrlEncoded(text: string, where: string): Fields {
  const fields: Fields = Object.create(null) as Fields;
  for (const [key, value] of new URLSearchParams(text)) {
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
