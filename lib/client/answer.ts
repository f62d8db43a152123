// Reads an HTTP answer of the netsync API: the JSON of a success, or the NetsyncError its error body names.
import { errors, type NetsyncError } from '../errors';

/** What `fetch` gave, already read to text. */
export interface RawAnswer {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** The parsed body of a 2xx answer; throws the NetsyncError any other answer stands for. */
export function readAnswer(answer: RawAnswer): unknown {
  const body = parseJson(answer.text);
  if (answer.status >= 200 && answer.status < 300) {
    if (body === undefined) throw errors.foreignAnswer(answer.url, answer.status, `${describeType(answer.headers)} body that is not JSON`);
    return body.value;
  }
  throw errorOf(answer, body?.value);
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
