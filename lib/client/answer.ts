// Reads an HTTP answer of the netsync API: the JSON of a success, or the NetsyncError its error body names.
import { errors, type NetsyncError } from '../errors';
import type { Match, StatsTree } from '../types';

/** What `fetch` gave, already read to text. */
export interface RawAnswer {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** What a successful answer must look like: a check, and its name for the error when it fails. */
export interface Expected<T> {
  readonly is: (value: unknown) => value is T;
  readonly what: string;
}

/** A Match: `payloads` a map, `members` a list (their contents are the server's word). */
export const MATCH: Expected<Match> = {
  is: (value): value is Match => isMap(value) && isMap(value.payloads) && Array.isArray(value.members),
  what: 'a match ({payloads, members})',
};

/** The /stats tree: a map. */
export const STATS: Expected<StatsTree> = { is: (value): value is StatsTree => isMap(value), what: 'a stats tree' };

/** The parsed body of a 2xx answer of the expected shape; throws the NetsyncError any other answer stands for. */
export function readAnswer<T>(answer: RawAnswer, expected: Expected<T>): T {
  const body = parseJson(answer.text);
  if (answer.status >= 200 && answer.status < 300) {
    if (body === undefined) throw errors.foreignAnswer(answer.url, answer.status, `${describeType(answer.headers)} body that is not JSON`);
    if (!expected.is(body.value)) throw errors.foreignAnswer(answer.url, answer.status, `JSON that is not ${expected.what}`);
    return body.value;
  }
  throw errorOf(answer, body?.value);
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function errorOf(answer: RawAnswer, body: unknown): NetsyncError {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && typeof message === 'string') {
      return errors.answered(code, message, answer.status, retryAfterSeconds(answer.headers.get('retry-after')));
    }
  }
  return errors.foreignAnswer(answer.url, answer.status, `${describeType(answer.headers)} body`);
}

/** `Retry-After` as seconds from now: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterSeconds(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

function describeType(headers: Headers): string {
  const type = headers.get('content-type');
  return type === null ? 'an untyped' : `a ${type.split(';', 1)[0]}`;
}
