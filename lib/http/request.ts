// Gathers what one /event request asks for: its fields (body over query), its wait, and its answer format.
import type { Request } from 'express';
import { errors } from '../errors';
import { optionalField, SEND_FIELDS, unknownFieldError } from '../params';
import { decodeBody } from './body';
import { parseDuration } from './duration';
import { describeValue, formatOf, type Format } from './format';
import { queryFields, type Fields } from './query';

/** A decoded /event request; `fields` still holds only what `normalizeParams` checks (event, actor, ...). */
export interface EventRequest {
  readonly fields: Fields;
  /** Milliseconds to wait for a match, already capped by `maxWait`; undefined waits until matched or gone. */
  readonly timeoutMs: number | undefined;
  readonly output: Format;
}

/** Fields of an HTTP request that shape the exchange rather than the send; the router reads them itself. */
const EXCHANGE_FIELDS: readonly string[] = ['timeout', 'input', 'output'];

/** Everything an /event request may carry, in the order the unknown-field message lists them. */
const EVENT_FIELDS: readonly string[] = [...SEND_FIELDS, ...EXCHANGE_FIELDS];
const KNOWN_EVENT_FIELDS: ReadonlySet<string> = new Set(EVENT_FIELDS);

/** Router settings that shape a request. */
export interface RequestLimits {
  readonly maxWaitMs: number | undefined;
  /** Node budget for a body the host parsed. */
  readonly parsedNodeBudget: number;
  /** The body limit in bytes, which no decoded body may expand past. */
  readonly maxBodyBytes: number;
}

/** Decode `req` (its body already read as text by the router, or parsed by the host). Throws `bad_request`. */
export function readEventRequest(req: Request, limits: RequestLimits): EventRequest {
  const query = queryFields(req);
  const input = formatControl(query, 'input');
  const body = decodeBody({
    body: req.body as unknown,
    contentType: req.headers['content-type'],
    input,
    parsedNodeBudget: limits.parsedNodeBudget,
    maxBytes: limits.maxBodyBytes,
  });
  if (optionalField(body, 'input') !== undefined) {
    throw errors.badRequest('input belongs in the query string: it says how to read the body');
  }
  // The query's map is this request's own, so the body's fields are laid over it rather than over a copy.
  const fields: Fields = Object.assign(query, body);
  // Checked here, where the exchange's own fields are still present, so the message lists them too.
  for (const key of Object.keys(fields)) {
    if (!KNOWN_EVENT_FIELDS.has(key)) throw unknownFieldError(key, EVENT_FIELDS);
  }
  const output = formatControl(fields, 'output') ?? 'json';
  const timeoutMs = readTimeout(fields, limits.maxWaitMs);
  delete fields.input;
  delete fields.output;
  delete fields.timeout;
  return { fields, timeoutMs, output };
}

/**
 * The answer format for an error raised before the request was decoded: the query's `output` when it is
 * valid, else JSON (an error about `output` itself cannot be answered in the format it failed to name).
 */
export function outputForError(req: Request): Format {
  try {
    const query = queryFields(req);
    return query.output === 'yaml' ? 'yaml' : 'json';
  } catch {
    return 'json';
  }
}

/** The `output` control of a /stats request (the only query field /stats reads). */
export function readStatsOutput(req: Request): Format {
  const query = queryFields(req);
  return formatControl(query, 'output') ?? 'json';
}

function readTimeout(fields: Fields, maxWaitMs: number | undefined): number | undefined {
  const timeout = optionalField(fields, 'timeout');
  if (timeout === undefined) return maxWaitMs;
  const ms = parseDuration(timeout, 1000);
  if (ms === undefined) {
    throw errors.badRequest(
      `timeout must be a positive number of seconds (1.5) or a duration (500ms, 30s, 2m, 1h) of at most 24 days, got ${describeValue(timeout)}`,
    );
  }
  return maxWaitMs === undefined ? ms : Math.min(ms, maxWaitMs);
}

/** The format an `input` or `output` control names; undefined when it is not given (or empty: an empty optional field counts as not given). */
function formatControl(fields: Fields, control: 'input' | 'output'): Format | undefined {
  const value = optionalField(fields, control);
  return value === undefined ? undefined : formatOf(value, control);
}
