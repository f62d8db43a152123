// The HTTP layer's small decoders: durations, body formats, and the node and size budgets of decoded bodies.
import { bodyFormatOf } from '../../lib/http/body';
import { MAX_WAIT_MS, parseDuration } from '../../lib/http/duration';
import { expandedSize } from '../../lib/http/expansion';
import { checkShape } from '../../lib/http/shape';
import { loadYaml } from '../../lib/http/yaml';

describe('parseDuration', () => {
  test.each([
    ['1.5', 1500],
    ['30', 30000],
    [2, 2000],
    ['500ms', 500],
    ['30s', 30000],
    ['2m', 120000],
    ['1h', 3600000],
    ['.5s', 500],
    [' 2s ', 2000],
    ['0.0001', 1],
  ])('%j seconds-based is %d ms', (value, ms) => {
    expect(parseDuration(value, 1000)).toBe(ms);
  });

  test.each([0, '0', '0s', -1, '-1', '1d', 's', '', '1.5.2', '1e3', 'Infinity', Infinity, NaN, null, true, [1], { s: 1 }, '25d'])(
    '%j is refused',
    (value) => {
      expect(parseDuration(value, 1000)).toBeUndefined();
    },
  );

  test('unitless values in milliseconds, up to what a timer holds', () => {
    expect(parseDuration(250, 1)).toBe(250);
    expect(parseDuration('250', 1)).toBe(250);
    expect(parseDuration(MAX_WAIT_MS, 1)).toBe(MAX_WAIT_MS);
    expect(parseDuration(MAX_WAIT_MS + 1, 1)).toBeUndefined();
  });
});

test.each([
  ['application/json', 'json'],
  ['application/json; charset=utf-8', 'json'],
  ['Application/JSON', 'json'],
  ['application/merge-patch+json', 'json'],
  ['application/yaml', 'yaml'],
  ['application/x-yaml', 'yaml'],
  ['text/yaml', 'yaml'],
  ['application/x-www-form-urlencoded', 'form'],
  ['text/plain', undefined],
  [undefined, undefined],
])('Content-Type %j is read as %j', (type, format) => {
  expect(bodyFormatOf(type)).toBe(format);
});

describe('checkShape', () => {
  test('fits within the budget', () => {
    expect(checkShape({ a: [1, 2, { b: 3 }] }, 6)).toBeUndefined();
    expect(checkShape({ a: [1, 2, { b: 3 }] }, 5)).toBe('too_many_nodes');
  });

  test('counts a shared node each time it is reached', () => {
    const shared = [1, 2, 3];
    expect(checkShape([shared, shared, shared], 13)).toBeUndefined();
    expect(checkShape([shared, shared, shared], 12)).toBe('too_many_nodes');
  });

  test('ends on cycles', () => {
    const cycle = loadYaml('&a [*a]');
    expect(checkShape(cycle, 1000)).not.toBeUndefined();
  });

  test('limits depth', () => {
    expect(checkShape([[[1]]], 100, 3)).toBeUndefined();
    expect(checkShape([[[[1]]]], 100, 3)).toBe('too_deep');
  });
});

test('YAML loads plain data only', () => {
  expect(loadYaml('when: 2020-01-09T20:00:44Z\n<<: {x: 1}\nn: 0x10')).toEqual({ when: '2020-01-09T20:00:44Z', '<<': { x: 1 }, n: 16 });
  expect(() => loadYaml('x: !!js/function "() => 1"')).toThrow();
});

describe('expandedSize', () => {
  test('counts characters of strings and keys, and one per scalar and container', () => {
    expect(expandedSize('abc')).toBe(3);
    expect(expandedSize({ ab: [1, null, 'xyz'] })).toBe(1 + 2 + 1 + 1 + 1 + 3);
  });

  test('never exceeds the JSON text of an alias-free value', () => {
    const value = { event: 'e', list: [1, true, null, '', { k: 'v\u00e9' }], n: -1.5e3 };
    expect(expandedSize(value)).toBeLessThanOrEqual(JSON.stringify(value).length);
  });

  test('counts a shared node each time it is used, without walking it again', () => {
    const s = 'x'.repeat(1000);
    let node: unknown = s;
    for (let level = 0; level < 20; level++) node = Array.from({ length: 8 }, () => node);
    // 8^20 uses of the string: far too many to walk one by one.
    expect(expandedSize(node)).toBeGreaterThan(8 ** 20 * 1000);
  });

  test('is infinite for a cycle', () => {
    expect(expandedSize(loadYaml('&a [*a]'))).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('loadYaml with a size', () => {
  test('stops aliases that add more than the size while they resolve', () => {
    const text = `s: &s "${'x'.repeat(100)}"\nl: [*s, *s, *s]`;
    expect(loadYaml(text, 1000)).toEqual({ s: 'x'.repeat(100), l: ['x'.repeat(100), 'x'.repeat(100), 'x'.repeat(100)] });
    expect(() => loadYaml(text, 250)).toThrow(/expands to more than 250 bytes/);
  });

  test('refuses an alias inside its own anchor, but not a tagged empty node', () => {
    expect(() => loadYaml('&a [*a]', 1000)).toThrow(/refers to itself/);
    expect(loadYaml('{a: !!map , b: !!seq , c: !!str }', 1000)).toEqual({ a: {}, b: [], c: '' });
  });
});
