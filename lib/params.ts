// The one place request rules live: validates and defaults what a caller sent, for the hub and the router alike.
import { errors, type NetsyncError } from './errors';
import { parseDuration } from './http/duration';
import { parseLabels, parseSelector, selectorOf, SelectorError, validateLabels } from './selector';
import { BoundedCache, type CacheLimits } from './selector/cache';
import { specKeyOf } from './stores/matching';
import type { Labels, Selector } from './selector/types';
import type { GroupSpec, Stage } from './stores/types';
import type { JsonValue, RequestParams, WidenStageParams } from './types';
import { isWellFormed, isWellFormedDeep } from './unicode';

/** Validated parameters with the compiled selector and the class key stores group by. */
export interface NormalizedRequest {
  readonly params: RequestParams;
  readonly selector: Selector;
  readonly classKey: string;
  readonly spec: GroupSpec;
  /** Widening stages, compiled; empty without `widen`. */
  readonly stages: readonly Stage[];
}

/** The linger window of a range when none is given. */
export const DEFAULT_LINGER_MS = 5000;

/** Most widening stages one request may have. */
export const MAX_STAGES = 8;

/** Longest event or actor name accepted; names are keys in /stats and log lines, not documents. */
export const MAX_NAME_LENGTH = 256;

/**
 * The fields of a send, in the order messages list them. A new request field is added here, and every
 * unknown-field message (the hub's and the HTTP API's) lists it.
 */
export const SEND_FIELDS: readonly string[] = ['event', 'actor', 'payload', 'mates', 'linger', 'labels', 'selector', 'widen'];

const KNOWN_FIELDS: ReadonlySet<string> = new Set(SEND_FIELDS);

/** The error for a field nobody could have meant; `known` lists what the caller can send where it sent it. */
export function unknownFieldError(key: string, known: readonly string[]): NetsyncError {
  return errors.badRequest(`unknown field ${JSON.stringify(key)}; known fields are ${known.join(', ')}`);
}

/**
 * Validate and default what a caller sent. Throws NetsyncError (`bad_request`, `invalid_selector`).
 * `input` may hold fields as the HTTP layer decoded them (strings from a query or form, any JSON from a body).
 * `maxMates` defaults to 64, the hub's default.
 */
export function normalizeParams(input: unknown, options: { maxMates?: number } = {}): NormalizedRequest {
  const { maxMates = 64 } = options;
  if (!isPlainObject(input)) throw errors.badRequest('the request must be an object of fields');
  for (const key of Object.keys(input)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw unknownFieldError(key, SEND_FIELDS);
    }
  }
  const event = nameField(input, 'event');
  const actor = nameField(input, 'actor');
  // The payload is data, never a default: `payload=` shares the empty string.
  const payload = (own(input, 'payload') ?? null) as JsonValue;
  // A lone surrogate cannot survive UTF-8: stores and clients would see another text than the sender meant.
  if (!isWellFormedDeep(payload)) throw errors.badRequest(illFormed('the payload (a string or key in it)'));
  const spec = specField(optionalField(input, 'mates'), optionalField(input, 'linger'), maxMates);
  const labels = labelsField(optionalField(input, 'labels'), actor);
  const { selector, text } = selectorField(optionalField(input, 'selector'), actor);
  const widen = widenField(optionalField(input, 'widen'), actor);
  const stages: Stage[] = widen.map((stage) => ({
    afterMs: stage.afterMs,
    selector: stage.field.selector,
    selectorText: stage.field.text,
    classKey: classKeyOf(event, spec, labels, stage.field.selector),
  }));
  const exact = spec.min === spec.max;
  const params: RequestParams = {
    event, actor, payload, labels, selector: text,
    mates: exact ? spec.min : `${spec.min}..${spec.max}`,
    ...(exact ? {} : { linger: durationText(spec.lingerMs) }),
    ...(stages.length === 0 ? {} : { widen: stages.map((s): WidenStageParams => ({ after: durationText(s.afterMs), selector: s.selectorText })) }),
  };
  return { params, selector, classKey: classKeyOf(event, spec, labels, selector), spec, stages };
}

/**
 * Requests with equal keys are interchangeable for matching. JSON of sorted entries keeps the key
 * unambiguous even for an actor label or a built selector value holding `,` or `=`.
 */
export function classKeyOf(event: string, spec: GroupSpec, labels: Labels, selector: Selector): string {
  // Every piece is a JSON string or number, which delimits itself, so plain concatenation stays unambiguous.
  // Joined once, so the key is one flat string rather than a chain of concatenations kept per request.
  const parts = [JSON.stringify(event), specKeyOf(spec)];
  const labelKeys = Object.keys(labels);
  if (labelKeys.length > 1) labelKeys.sort();
  for (const name of labelKeys) parts.push(JSON.stringify(name), '=', JSON.stringify(labels[name]));
  parts.push('|');
  for (const r of selector.requirements) {
    parts.push(JSON.stringify(r.key), r.operator === '==' ? '=' : r.operator, JSON.stringify(r.values));
  }
  return parts.join('');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * An optional field as the rules read it: the empty string counts as not given (README, HTTP API reference), as in the Go
 * original and as HTML forms send an untouched input, so `selector=` is the default selector and `mates=` is 1.
 * Every optional field goes through here, the HTTP controls (`timeout`, `input`, `output`) too; only the
 * payload, which is data, and the required event and actor do not.
 */
export function optionalField(fields: Readonly<Record<string, unknown>>, key: string): unknown {
  const value = own(fields, key);
  return value === '' ? undefined : value;
}

/** Own properties only, so `__proto__` or `constructor` never come from a prototype. */
function own(input: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(input, key) ? input[key] : undefined;
}

function nameField(input: Record<string, unknown>, field: 'event' | 'actor'): string {
  let value = own(input, field);
  // YAML reads `actor: 123` as a number; the caller meant the name "123".
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (value === undefined || value === null || value === '') throw errors.badRequest(`${field} is required`);
  if (typeof value !== 'string') throw errors.badRequest(`${field} must be a string`);
  if (value.length > MAX_NAME_LENGTH) throw errors.badRequest(`${field} is longer than ${MAX_NAME_LENGTH} characters`);
  // `e\ud800` and `e\udbff` are different names here but one in UTF-8: they must not be able to meet.
  if (!isWellFormed(value)) throw errors.badRequest(illFormed(field));
  return value;
}

/** `mates` (an integer, `MIN..MAX`, or `{min, max}`) and `linger`, as one spec. */
function specField(value: unknown, linger: unknown, maxMates: number): GroupSpec {
  const range = rangeOf(value, maxMates);
  const min = range?.min ?? matesField(value, maxMates);
  const max = range?.max ?? min;
  if (min === max) {
    if (linger !== undefined) throw errors.badRequest(`linger only applies to a mates range (MIN..MAX), not to an exact count of ${min}`);
    return { min, max, lingerMs: 0 };
  }
  if (linger === undefined) return { min, max, lingerMs: DEFAULT_LINGER_MS };
  const lingerMs = parseDuration(linger, 1000);
  if (lingerMs === undefined) {
    throw errors.badRequest(`linger must be a positive number of seconds (1.5) or a duration (500ms, 5s, 2m) of at most 24 days, got ${describe(linger)}`);
  }
  return { min, max, lingerMs };
}

function matesField(value: unknown, maxMates: number): number {
  if (value === undefined) return 1;
  const mates = countOf(value);
  if (mates === undefined || mates > maxMates) {
    throw errors.badRequest(`mates must be an integer from 0 to ${maxMates} or a range MIN..MAX, got ${describe(value)}`);
  }
  return mates;
}

/** A non-negative integer count from a number or its decimal text. */
function countOf(value: unknown): number | undefined {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^[0-9]{1,10}$/.test(value)) n = Number(value);
  else return undefined;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A range `MIN..MAX` or `{min, max}`; undefined for anything else (an exact count or a bad value, which matesField reports). */
function rangeOf(value: unknown, maxMates: number): { min: number; max: number } | undefined {
  let min: unknown;
  let max: unknown;
  if (typeof value === 'string' && value.includes('..')) {
    const at = value.indexOf('..');
    min = value.slice(0, at).trim();
    max = value.slice(at + 2).trim();
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (key !== 'min' && key !== 'max') throw errors.badRequest(`a mates range has only min and max, got ${JSON.stringify(key)}`);
    }
    min = own(value, 'min');
    max = own(value, 'max');
  } else {
    return undefined;
  }
  const lo = countOf(min);
  const hi = countOf(max);
  const shown = typeof value === 'string' ? JSON.stringify(value) : `{min: ${describe(min)}, max: ${describe(max)}}`;
  if (lo === undefined || hi === undefined) {
    throw errors.badRequest(`a mates range needs two integers MIN..MAX (like 1..3), got ${shown}`);
  }
  if (lo > hi) throw errors.badRequest(`a mates range MIN..MAX needs MIN <= MAX, got ${shown}`);
  if (hi > maxMates) throw errors.badRequest(`a mates range may go up to ${maxMates}, got ${shown}`);
  return { min: lo, max: hi };
}

/** One stage as parsed, before its class key is known. */
interface ParsedStage {
  readonly afterMs: number;
  readonly field: SelectorField;
}

/** `widen`: a list of `{after, selector}` (or `AFTER:SELECTOR` texts), strictly increasing in `after`. */
function widenField(value: unknown, actor: string): ParsedStage[] {
  if (value === undefined) return [];
  const items: readonly unknown[] = Array.isArray(value) ? value : [value];
  if (items.length > MAX_STAGES) throw errors.badRequest(`widen has at most ${MAX_STAGES} stages, got ${items.length}`);
  const stages: ParsedStage[] = [];
  items.forEach((item, i) => {
    const n = i + 1;
    let after: unknown;
    let selector: unknown;
    if (typeof item === 'string') {
      const colon = item.indexOf(':');
      if (colon < 0) throw errors.badRequest(`widen stage ${n} must be AFTER:SELECTOR (like 10s:level>1, or 30s: for anyone), got ${JSON.stringify(item)}`);
      after = item.slice(0, colon);
      selector = item.slice(colon + 1);
    } else if (isPlainObject(item)) {
      for (const key of Object.keys(item)) {
        if (key !== 'after' && key !== 'selector') throw errors.badRequest(`widen stage ${n} has only after and selector, got ${JSON.stringify(key)}`);
      }
      after = own(item, 'after');
      selector = own(item, 'selector');
    } else {
      throw errors.badRequest(`widen stage ${n} must be {after, selector} or AFTER:SELECTOR, got ${describe(item)}`);
    }
    const afterMs = parseDuration(after, 1000);
    if (afterMs === undefined) {
      throw errors.badRequest(`widen stage ${n}: after must be a positive number of seconds or a duration (500ms, 10s, 2m), got ${describe(after)}`);
    }
    const previous = stages[stages.length - 1];
    if (previous !== undefined && afterMs <= previous.afterMs) {
      throw errors.badRequest(`widen stages must come in strictly increasing after order; stage ${n} (${durationText(afterMs)}) is not after stage ${n - 1} (${durationText(previous.afterMs)})`);
    }
    let field: SelectorField;
    try {
      field = selectorField(selector === '' || selector === null ? undefined : selector, actor);
    } catch (err) {
      if (isNetsyncErrorOf(err, 'invalid_selector')) {
        throw errors.invalidSelector(String(selector), `widen stage ${n}: ${detailOf(err)}`, err);
      }
      if (isNetsyncErrorOf(err, 'bad_request')) throw errors.badRequest(`widen stage ${n}: ${err instanceof Error ? err.message : String(err)}`);
      throw err;
    }
    stages.push({ afterMs, field });
  });
  return stages;
}

function isNetsyncErrorOf(err: unknown, code: string): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}

/** The part of an invalid-selector message after the selector itself. */
function detailOf(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf('": ');
  return at < 0 ? message : message.slice(at + 3);
}

/** Canonical text for a duration of whole milliseconds, readable back by parseDuration. */
export function durationText(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function labelsField(value: unknown, actor: string): Labels {
  // Checked before the label syntax, so every field reports an ill-formed text the same way.
  if (!isWellFormedDeep(value)) throw errors.badRequest(illFormed('labels'));
  let given: Labels;
  try {
    if (value === undefined) given = Object.create(null) as Labels;
    else if (typeof value === 'string') given = parseLabels(value);
    else if (isPlainObject(value)) given = validateLabels(labelStrings(withoutActor(value, actor)));
    else throw errors.badRequest('labels must be a map of strings or a k1=v1,k2=v2 string');
  } catch (err) {
    if (err instanceof SelectorError) throw errors.badRequest(`invalid labels: ${err.message}`);
    throw err;
  }
  checkActorLabel(given.actor, actor);
  // Built as an ordinary object and then cut from its prototype: V8 keeps it compact, where an object
  // made by Object.create(null) is a hash table three times the size (it is kept per pending request).
  const labels: Record<string, string> = {};
  for (const key of Object.keys(given)) if (key !== 'actor') define(labels, key, given[key] as string);
  // netsync adds the actor label itself, so it is set even when the name is no valid label value.
  define(labels, 'actor', actor);
  return Object.setPrototypeOf(labels, null) as Labels;
}

/** An own data property, even for a key like `__proto__`. */
function define(target: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** An explicit `actor` label may only repeat the actor (README, HTTP API reference). */
function checkActorLabel(label: unknown, actor: string): void {
  if (label !== undefined && label !== actor) {
    throw errors.badRequest(`the actor label ${describe(label)} differs from actor ${JSON.stringify(actor)}`);
  }
}

/** The caller may repeat the actor label; it is netsync's own data, so it skips label validation. */
function withoutActor(map: Record<string, unknown>, actor: string): Record<string, unknown> {
  const actorLabel = own(map, 'actor');
  if (actorLabel === undefined) return map;
  checkActorLabel(actorLabel, actor);
  const rest = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(map)) if (key !== 'actor') rest[key] = map[key];
  return rest;
}

function labelStrings(map: Record<string, unknown>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(map)) {
    const value = map[key];
    // YAML reads `level: 3` as a number and `ready: true` as a boolean; labels are strings.
    if (typeof value === 'string') out[key] = value;
    else if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean') out[key] = String(value);
    else throw errors.badRequest(`label ${JSON.stringify(key)} must be a string, number or boolean`);
  }
  return out;
}

/**
 * Bounds of the compiled-selector caches, by selector text and by actor for the default selector. Selectors
 * are immutable, so requests with the same text share one: parsing is skipped, and a backlog of alike waiters
 * holds one selector instead of one each. Bounded by size as well as count, so that many distinct huge
 * selectors cannot fill the heap.
 */
export const SELECTOR_CACHE_LIMITS: CacheLimits = {
  maxEntries: 1000,
  /** Characters of selector text kept in all. */
  maxWeight: 256 * 1024,
  /** A selector longer than this is parsed for its request and not kept. */
  maxEntryWeight: 4 * 1024,
};

/** A compiled selector with the text `params.selector` shows for it. */
interface SelectorField {
  readonly selector: Selector;
  readonly text: string;
}

const parsedSelectors = new BoundedCache<string, SelectorField>(SELECTOR_CACHE_LIMITS);
const defaultSelectors = new BoundedCache<string, SelectorField>(SELECTOR_CACHE_LIMITS);

/** What the selector caches hold, for tests and diagnostics. */
export function selectorCacheUsage(): { readonly entries: number; readonly characters: number } {
  return { entries: parsedSelectors.size + defaultSelectors.size, characters: parsedSelectors.weight + defaultSelectors.weight };
}

function selectorField(value: unknown, actor: string): SelectorField {
  if (value === undefined) {
    let field = defaultSelectors.get(actor);
    if (field === undefined) {
      const name = ownCopy(actor);
      // Built, not parsed: an actor name may hold characters the selector grammar does not allow.
      field = { selector: selectorOf([{ key: 'actor', operator: '!=', values: [name] }]), text: `actor != ${name}` };
      defaultSelectors.set(name, field, field.text.length);
    }
    return field;
  }
  if (typeof value !== 'string') throw errors.badRequest('selector must be a string');
  if (!isWellFormed(value)) throw errors.badRequest(illFormed('selector'));
  let field = parsedSelectors.get(value);
  if (field !== undefined) return field;
  try {
    const text = ownCopy(value);
    field = { selector: parseSelector(text), text };
  } catch (err) {
    if (err instanceof SelectorError) {
      const detail = /position|\bat \d+$/.test(err.message) ? err.message : `${err.message} at position ${err.position}`;
      throw errors.invalidSelector(value, detail, err);
    }
    throw err;
  }
  parsedSelectors.set(field.text, field, field.text.length);
  return field;
}

/**
 * A string that holds only its own characters: a name decoded from a YAML body may be a slice that keeps
 * the whole body alive, which a cache entry must not do.
 */
function ownCopy(text: string): string {
  // V8 makes slices only of 13 characters or more; shorter strings are copies already.
  return text.length < 13 ? text : (JSON.parse(JSON.stringify(text)) as string);
}

/** The text itself stays out of the message: it is what the client could not encode. */
function illFormed(what: string): string {
  return `${what} must be well-formed Unicode; it holds a lone surrogate (half of a UTF-16 pair without the other half)`;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
