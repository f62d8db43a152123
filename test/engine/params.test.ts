// The request rules of normalizeParams: defaults, coercions, rejections and prototype-safe data.
import { isNetsyncError } from '../../lib/errors';
import { normalizeParams, SELECTOR_CACHE_LIMITS, selectorCacheUsage, type NormalizedRequest } from '../../lib/params';

const normalize = (input: unknown, maxMates = 64): NormalizedRequest => normalizeParams(input, { maxMates });

function errorOf(input: unknown, maxMates = 64): { code: string; message: string } {
  try {
    normalize(input, maxMates);
  } catch (err) {
    if (isNetsyncError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('normalizeParams', () => {
  it('applies the documented defaults', () => {
    const { params, selector } = normalize({ event: 'e', actor: 'gameMaker' });
    expect(params).toEqual({
      event: 'e', actor: 'gameMaker', payload: null, mates: 1,
      labels: { actor: 'gameMaker' }, selector: 'actor != gameMaker',
    });
    expect(Object.getPrototypeOf(params.labels)).toBeNull();
    expect(selector.matches({ actor: 'other' })).toBe(true);
    expect(selector.matches({ actor: 'gameMaker' })).toBe(false);
  });

  it('takes the hub\'s default maxMates (64) when called without options', () => {
    expect(normalizeParams({ event: 'e', actor: 'a', labels: 'k=v' }).params).toEqual({
      event: 'e', actor: 'a', payload: null, labels: { actor: 'a', k: 'v' }, selector: 'actor != a', mates: 1,
    });
    expect(normalizeParams({ event: 'e', actor: 'a', mates: 64 }).params.mates).toBe(64);
    expect(() => normalizeParams({ event: 'e', actor: 'a', mates: 65 })).toThrow(/mates must be an integer from 0 to 64/);
  });

  it('rejects anything but a plain object', () => {
    for (const input of [null, undefined, 'event=e', 3, [], new Map(), new (class Params {})()]) {
      expect(errorOf(input).code).toBe('bad_request');
    }
  });

  it('rejects unknown fields by name, so a typo never means a default', () => {
    const { code, message } = errorOf({ event: 'e', actor: 'a', mate: 2 });
    expect(code).toBe('bad_request');
    expect(message).toContain('"mate"');
    expect(errorOf({ event: 'e', actor: 'a', timeout: 1 }).message).toContain('"timeout"');
  });

  it('lists the fields a send takes (not the HTTP-only timeout, input and output)', () => {
    expect(errorOf({ event: 'e', actor: 'a', mate: 2 }).message).toBe(
      'unknown field "mate"; known fields are event, actor, payload, mates, linger, labels, selector, widen',
    );
  });

  it('reads own properties only', () => {
    Object.defineProperty(Object.prototype, 'mates', { value: 5, configurable: true, enumerable: false });
    try {
      expect(normalize({ event: 'e', actor: 'a' }).params.mates).toBe(1);
    } finally {
      delete (Object.prototype as { mates?: unknown }).mates;
    }
    const parsed = JSON.parse('{"event":"e","actor":"a","__proto__":{"mates":5}}') as unknown;
    expect(errorOf(parsed).message).toContain('"__proto__"');
  });

  it('requires event and actor as non-empty strings of bounded length', () => {
    expect(errorOf({ actor: 'a' }).message).toMatch(/event is required/);
    expect(errorOf({ event: 'e' }).message).toMatch(/actor is required/);
    expect(errorOf({ event: '', actor: 'a' }).message).toMatch(/event is required/);
    expect(errorOf({ event: 'e', actor: { name: 'a' } }).message).toMatch(/actor must be a string/);
    expect(errorOf({ event: ['e'], actor: 'a' }).message).toMatch(/event must be a string/);
    expect(errorOf({ event: true, actor: 'a' }).code).toBe('bad_request');
    expect(errorOf({ event: 'e'.repeat(257), actor: 'a' }).message).toMatch(/longer than 256/);
    expect(normalize({ event: 'e'.repeat(256), actor: 'a' }).params.event).toHaveLength(256);
  });

  it('accepts numeric names (YAML `actor: 123`) as strings', () => {
    const { params } = normalize({ event: 7, actor: 123 });
    expect(params.event).toBe('7');
    expect(params.actor).toBe('123');
    expect(params.labels).toEqual({ actor: '123' });
  });

  it('echoes any JSON payload as sent', () => {
    const payload = { list: [1, 'two', null, { deep: true }], n: 1.5 };
    expect(normalize({ event: 'e', actor: 'a', payload }).params.payload).toBe(payload);
    expect(normalize({ event: 'e', actor: 'a', payload: 'p1' }).params.payload).toBe('p1');
    expect(normalize({ event: 'e', actor: 'a', payload: false }).params.payload).toBe(false);
  });

  it('accepts mates as an integer or a decimal string from 0 to maxMates', () => {
    expect(normalize({ event: 'e', actor: 'a', mates: 0 }).params.mates).toBe(0);
    expect(normalize({ event: 'e', actor: 'a', mates: '2' }).params.mates).toBe(2);
    expect(normalize({ event: 'e', actor: 'a', mates: 64 }).params.mates).toBe(64);
    expect(normalize({ event: 'e', actor: 'a', mates: '5' }, 5).params.mates).toBe(5);
    for (const mates of ['2.5', 2.5, -1, '-1', 'abc', ' 2', 1e3, '1e3', 65, Infinity, NaN, null, true, [2], '0x2']) {
      const { code, message } = errorOf({ event: 'e', actor: 'a', mates });
      expect(code).toBe('bad_request');
      expect(message).toMatch(/mates must be an integer from 0 to 64/);
    }
    expect(errorOf({ event: 'e', actor: 'a', mates: 6 }, 5).message).toMatch(/from 0 to 5/);
  });

  it('takes labels as a map or a k=v string and always adds the actor label', () => {
    const fromMap = normalize({ event: 'e', actor: 'a', labels: { kind: 'player', level: 3, ready: true } });
    expect(fromMap.params.labels).toEqual({ kind: 'player', level: '3', ready: 'true', actor: 'a' });
    expect(Object.getPrototypeOf(fromMap.params.labels)).toBeNull();
    const fromText = normalize({ event: 'e', actor: 'a', labels: 'kind=player,level=3' });
    expect(fromText.params.labels).toEqual({ kind: 'player', level: '3', actor: 'a' });
    expect(normalize({ event: 'e', actor: 'a', labels: { actor: 'a' } }).params.labels).toEqual({ actor: 'a' });
    expect(normalize({ event: 'e', actor: 'a', labels: 'actor=a' }).params.labels).toEqual({ actor: 'a' });
    expect(normalize({ event: 'e', actor: 'a', labels: '' }).params.labels).toEqual({ actor: 'a' });
  });

  it('rejects bad labels with bad_request', () => {
    const bad: unknown[] = [
      { 'bad key!': 'x' }, { k: 'a@b' }, { k: { nested: 1 } }, { k: null }, { k: [1] }, 'k=v,k=w', 'a b=c',
      ['k=v'], 42,
    ];
    for (const labels of bad) expect(errorOf({ event: 'e', actor: 'a', labels }).code).toBe('bad_request');
    expect(errorOf({ event: 'e', actor: 'a', labels: { k: 'a@b' } }).message).toMatch(/invalid labels/);
  });

  it('rejects an actor label that differs from the actor', () => {
    expect(errorOf({ event: 'e', actor: 'a', labels: { actor: 'b' } }).message).toMatch(/actor label "b" differs/);
    expect(errorOf({ event: 'e', actor: 'a', labels: 'actor=b' }).message).toMatch(/differs/);
  });

  it('sets the actor label even when the actor is no valid label value', () => {
    for (const actor of ['a@b.c', 'two words', '__proto__', 'a,b=c']) {
      const { params, selector } = normalize({ event: 'e', actor });
      expect(params.labels.actor).toBe(actor);
      expect(params.selector).toBe(`actor != ${actor}`);
      expect(selector.matches(params.labels)).toBe(false);
      expect(selector.matches({ actor: 'someone' })).toBe(true);
    }
    expect(normalize({ event: 'e', actor: 'a@b.c', labels: { actor: 'a@b.c', k: 'v' } }).params.labels)
      .toEqual({ actor: 'a@b.c', k: 'v' });
  });

  it('keeps __proto__ and constructor as plain data in labels and payloads', () => {
    const labels = JSON.parse('{"constructor":"y","hasOwnProperty":"z"}') as Record<string, string>;
    const { params } = normalize({ event: 'e', actor: '__proto__', labels, payload: JSON.parse('{"__proto__":1}') as object });
    expect(Object.keys(params.labels).sort()).toEqual(['actor', 'constructor', 'hasOwnProperty']);
    expect(params.labels.constructor).toBe('y');
    expect(params.labels.actor).toBe('__proto__');
    expect(Object.keys(params.payload as object)).toEqual(['__proto__']);
    expect(normalize({ event: 'e', actor: 'a', labels: 'constructor=z' }).params.labels.constructor).toBe('z');
    // Not a valid Kubernetes label key, so it is rejected rather than set on a prototype.
    expect(errorOf({ event: 'e', actor: 'a', labels: JSON.parse('{"__proto__":"x"}') as object }).code).toBe('bad_request');
  });

  it('parses the selector and keeps its text; `actor` accepts anyone, even yourself', () => {
    const custom = normalize({ event: 'e', actor: 'a', selector: 'kind in (player, bot),!banned' });
    expect(custom.params.selector).toBe('kind in (player, bot),!banned');
    expect(custom.selector.matches({ kind: 'bot' })).toBe(true);
    expect(custom.selector.matches({ kind: 'bot', banned: 'y' })).toBe(false);
    const everyone = normalize({ event: 'e', actor: 'a', selector: 'actor' });
    expect(everyone.params.selector).toBe('actor');
    expect(everyone.selector.matches({ actor: 'a' })).toBe(true);
  });

  describe('an empty optional field counts as not given (README, HTTP API reference)', () => {
    it('"" is the default selector, never yourself', () => {
      const empty = normalize({ event: 'e', actor: 'a', selector: '' });
      expect(empty.params.selector).toBe('actor != a');
      expect(empty.selector.matches({ actor: 'a' })).toBe(false);
      expect(empty.selector.matches({ actor: 'b' })).toBe(true);
      expect(empty.classKey).toBe(normalize({ event: 'e', actor: 'a' }).classKey);
    });

    it('"" labels are the actor label alone, "" mates is 1', () => {
      expect(normalize({ event: 'e', actor: 'a', labels: '' }).params.labels).toEqual({ actor: 'a' });
      expect(normalize({ event: 'e', actor: 'a', mates: '' }).params.mates).toBe(1);
      const all = normalize({ event: 'e', actor: 'a', labels: '', selector: '', mates: '' });
      expect(all.params).toEqual(normalize({ event: 'e', actor: 'a' }).params);
    });

    it('keeps an empty payload as the empty string, and still requires event and actor', () => {
      expect(normalize({ event: 'e', actor: 'a', payload: '' }).params.payload).toBe('');
      expect(errorOf({ event: '', actor: 'a' }).message).toBe('event is required');
      expect(errorOf({ event: 'e', actor: '' }).message).toBe('actor is required');
    });

    it('reads only the empty string so: null or whitespace are still checked', () => {
      expect(errorOf({ event: 'e', actor: 'a', selector: null }).code).toBe('bad_request');
      expect(errorOf({ event: 'e', actor: 'a', mates: ' ' }).code).toBe('bad_request');
    });
  });

  it('reports a selector that does not parse as invalid_selector naming it and the position', () => {
    const { code, message } = errorOf({ event: 'e', actor: 'a', selector: 'kind in (x' });
    expect(code).toBe('invalid_selector');
    expect(message).toContain('"kind in (x"');
    expect(message).toMatch(/\b10\b/);
    expect(errorOf({ event: 'e', actor: 'a', selector: 3 }).code).toBe('bad_request');
    expect(errorOf({ event: 'e', actor: 'a', selector: null }).code).toBe('bad_request');
  });

  describe('well-formed Unicode only', () => {
    it.each([
      ['event', { event: 'e\ud800', actor: 'a' }],
      ['actor', { event: 'e', actor: '\udfffa' }],
      ['a label key', { event: 'e', actor: 'a', labels: { 'k\ud800': 'v' } }],
      ['a label value', { event: 'e', actor: 'a', labels: 'k=\udc00' }],
      ['the selector', { event: 'e', actor: 'a', selector: 'k=\ud83d' }],
      ['a payload string', { event: 'e', actor: 'a', payload: 'x\ud800' }],
      ['a payload key', { event: 'e', actor: 'a', payload: { nested: [{ ['\udbff']: 1 }] } }],
    ])('refuses a lone surrogate in %s as bad_request', (_where, input) => {
      const { code, message } = errorOf(input);
      expect(code).toBe('bad_request');
      expect(message).toContain('well-formed Unicode');
    });

    it('accepts surrogate pairs, and payloads that share or cycle through objects', () => {
      expect(normalize({ event: 'e\ud83d\ude00', actor: '\ud83c\udf6b', payload: '\ud83d\ude00' }).params.event).toBe('e😀');
      const shared = { s: 'ok' };
      const cyclic: Record<string, unknown> = { shared, again: shared };
      cyclic.self = cyclic;
      expect(normalize({ event: 'e', actor: 'a', payload: cyclic as never }).params.payload).toBe(cyclic);
    });
  });

  describe('classKey', () => {
    const key = (input: object): string => normalize({ event: 'e', actor: 'a', ...input }).classKey;

    it('is equal for interchangeable requests', () => {
      expect(key({ labels: 'x=1,y=2' })).toBe(key({ labels: { y: '2', x: 1 } }));
      expect(key({ selector: 'b=2,a=1' })).toBe(key({ selector: 'a=1, b=2' }));
      expect(key({ mates: '2' })).toBe(key({ mates: 2 }));
      expect(key({ payload: 'x' })).toBe(key({ payload: { other: true } }));
    });

    it('differs when event, mates, labels or selector differ', () => {
      const base = key({});
      expect(key({ mates: 2 })).not.toBe(base);
      expect(normalize({ event: 'f', actor: 'a' }).classKey).not.toBe(base);
      expect(key({ labels: 'x=1' })).not.toBe(base);
      expect(key({ selector: 'actor' })).not.toBe(base);
      expect(key({ selector: 'x in (1,2)' })).not.toBe(key({ selector: 'x in (1)' }));
    });

    it('stays unambiguous for actor names holding separators', () => {
      const one = normalize({ event: 'e', actor: 'a,b=c' });
      const two = normalize({ event: 'e', actor: 'a', labels: { b: 'c' } });
      expect(one.classKey).not.toBe(two.classKey);
      const quoted = normalize({ event: 'e', actor: 'x"],["y' });
      expect(quoted.classKey).not.toBe(normalize({ event: 'e', actor: 'x' }).classKey);
    });
  });
});

describe('compiled selectors are shared', () => {
  it('requests with the same selector text share one compiled selector', () => {
    const a = normalize({ event: 'e', actor: 'a', selector: 'kind in (player,bot),!banned' });
    const b = normalize({ event: 'f', actor: 'b', selector: 'kind in (player,bot),!banned' });
    expect(b.selector).toBe(a.selector);
    expect(b.params.selector).toBe('kind in (player,bot),!banned');
    expect(b.selector.matches({ kind: 'bot' })).toBe(true);
    expect(b.selector.matches({ kind: 'bot', banned: 'yes' })).toBe(false);
  });

  it('requests of one actor share its default selector; other actors get their own', () => {
    const first = normalize({ event: 'e', actor: 'p1' });
    const again = normalize({ event: 'other', actor: 'p1' });
    const other = normalize({ event: 'e', actor: 'p2' });
    expect(again.selector).toBe(first.selector);
    expect(again.params.selector).toBe('actor != p1');
    expect(other.selector).not.toBe(first.selector);
    expect(other.selector.matches({ actor: 'p1' })).toBe(true);
    expect(other.selector.matches({ actor: 'p2' })).toBe(false);
  });

  it('an invalid selector is refused every time, not remembered as valid', () => {
    expect(errorOf({ event: 'e', actor: 'a', selector: 'x in (' }).code).toBe('invalid_selector');
    expect(errorOf({ event: 'e', actor: 'a', selector: 'x in (' }).code).toBe('invalid_selector');
  });

  it('keeps working past the cache size', () => {
    const first = normalize({ event: 'e', actor: 'a', selector: 'level=0' });
    for (let i = 1; i <= SELECTOR_CACHE_LIMITS.maxEntries; i++) normalize({ event: 'e', actor: 'a', selector: `level=${i}` });
    const later = normalize({ event: 'e', actor: 'a', selector: 'level=0' });
    expect(later.selector).not.toBe(first.selector);
    expect(later.selector.toString()).toBe(first.selector.toString());
    expect(later.classKey).toBe(first.classKey);
  });
});

describe('the selector cache is bounded by size', () => {
  /** A valid selector of about `length` characters, distinct for each `n`. */
  const longSelector = (n: number, length: number): string => `level!=n${n}${',k=v'.repeat(Math.ceil(length / 4))}`;

  it('does not keep a selector over a few KB, so each request parses its own', () => {
    const text = longSelector(0, SELECTOR_CACHE_LIMITS.maxEntryWeight + 10);
    const one = normalize({ event: 'e', actor: 'a', selector: text });
    const two = normalize({ event: 'e', actor: 'a', selector: text });
    expect(two.selector).not.toBe(one.selector);
    expect(two.classKey).toBe(one.classKey);
  });

  it('keeps a selector of a few KB, and caps the text kept in all', () => {
    const text = longSelector(-1, 3000);
    expect(normalize({ event: 'e', actor: 'a', selector: text }).selector).toBe(normalize({ event: 'f', actor: 'b', selector: text }).selector);
    for (let i = 0; i < 500; i++) normalize({ event: 'e', actor: 'a', selector: longSelector(i, 3000) });
    expect(selectorCacheUsage().characters).toBeLessThanOrEqual(2 * SELECTOR_CACHE_LIMITS.maxWeight);
    expect(selectorCacheUsage().entries).toBeLessThanOrEqual(2 * SELECTOR_CACHE_LIMITS.maxEntries);
  });
});

describe('normalizeParams: mate ranges and widening', () => {
  it('reads MIN..MAX, {min, max} and numeric strings alike, with the default linger of 5s', () => {
    for (const mates of ['1..3', ' 1 .. 3 ', { min: 1, max: 3 }, { min: '1', max: '3' }]) {
      const { params, spec } = normalize({ event: 'e', actor: 'a', mates });
      expect(spec).toEqual({ min: 1, max: 3, lingerMs: 5000 });
      expect(params.mates).toBe('1..3');
      expect(params.linger).toBe('5s');
    }
  });

  it('makes MIN..MIN the exact count MIN, without a linger', () => {
    const { params, spec } = normalize({ event: 'e', actor: 'a', mates: '2..2' });
    expect(spec).toEqual({ min: 2, max: 2, lingerMs: 0 });
    expect(params).toEqual(normalize({ event: 'e', actor: 'a', mates: 2 }).params);
    expect(normalize({ event: 'e', actor: 'a', mates: '2..2' }).classKey).toBe(normalize({ event: 'e', actor: 'a', mates: 2 }).classKey);
  });

  it('writes linger and stage times as canonical durations that read back the same', () => {
    const { params, spec, stages } = normalize({
      event: 'e', actor: 'a', mates: '0..2', linger: 1.25, widen: ['1500ms:', { after: 90, selector: 'x' }, { after: '2m' }],
    });
    expect(spec.lingerMs).toBe(1250);
    expect(params.linger).toBe('1250ms');
    expect(params.widen).toEqual([{ after: '1500ms', selector: 'actor != a' }, { after: '90s', selector: 'x' }, { after: '120s', selector: 'actor != a' }]);
    expect(stages.map((s) => s.afterMs)).toEqual([1500, 90_000, 120_000]);
    const again = normalize({ event: 'e', actor: 'a', mates: params.mates, linger: params.linger, widen: params.widen?.map((s) => `${s.after}:${s.selector}`) });
    expect(again.params).toEqual(params);
  });

  it('puts the whole spec in the class key, and each stage in a class of its own', () => {
    const key = (fields: object): string => normalize({ event: 'e', actor: 'a', ...fields }).classKey;
    const keys = [key({ mates: '1..3' }), key({ mates: '1..3', linger: '4s' }), key({ mates: '1..2' }), key({ mates: '0..3' }), key({ mates: 3 })];
    expect(new Set(keys).size).toBe(keys.length);
    const { stages, classKey } = normalize({ event: 'e', actor: 'a', selector: 'x=1', widen: ['1s:x in (1,2)', '2s:'] });
    expect(stages.map((s) => s.classKey)).toEqual([
      normalize({ event: 'e', actor: 'a', selector: 'x in (1,2)' }).classKey,
      normalize({ event: 'e', actor: 'a' }).classKey,
    ]);
    expect(stages[0]?.classKey).not.toBe(classKey);
  });

  it('treats an empty widen or linger as not given', () => {
    expect(normalize({ event: 'e', actor: 'a', widen: '', linger: '' }).stages).toEqual([]);
    expect(normalize({ event: 'e', actor: 'a', widen: [] }).params.widen).toBeUndefined();
  });

  it.each([
    [{ mates: '5..2' }, /MIN <= MAX/],
    [{ mates: '1..x' }, /two integers/],
    [{ mates: { min: 1, max: 2, step: 1 } }, /only min and max/],
    [{ mates: 3, linger: '1s' }, /linger only applies/],
    [{ mates: '1..2', linger: -1 }, /linger must be/],
    [{ widen: ['2s:', '1s:'] }, /strictly increasing/],
    [{ widen: 'x' }, /AFTER:SELECTOR/],
    [{ widen: [null] }, /widen stage 1 must be/],
  ])('refuses %j', (fields, message) => {
    const { code, message: text } = errorOf({ event: 'e', actor: 'a', ...fields });
    expect(code).toBe('bad_request');
    expect(text).toMatch(message);
  });
});
