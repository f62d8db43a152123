// Matching: integer comparisons beyond 2^53, own-property label lookups, selectorOf and long selectors.
import { parseSelector, selectorOf, type Labels } from '../../lib/selector';
import { sortByKey } from '../../lib/selector/sort';

const labels = (entries: Record<string, string>): Labels => Object.assign(Object.create(null) as Record<string, string>, entries);

describe('> and <', () => {
  it.each([
    ['x>3', '4', true],
    ['x>3', '3', false],
    ['x>3', '+4', true],
    ['x>3', '0004', true],
    ['x<3', '-4', true],
    ['x<0', '-0', false],
    ['x>0', '-0', false],
    ['x<1', '-9223372036854775808', true],
    ['x<1', '-9223372036854775809', false], // out of int64: ParseInt fails, so no match
    ['x>1', '9223372036854775808', false],
    ['x>1', '99999999999999999999999', false],
    ['x>9223372036854775806', '9223372036854775807', true],
    ['x<9223372036854775807', '9223372036854775806', true],
    ['x>9007199254740992', '9007199254740993', true], // 2^53 + 1: Number would call these equal
    ['x<9007199254740993', '9007199254740992', true],
    ['x>9007199254740993', '9007199254740993', false],
    ['x>1', '', false],
    ['x>1', '-', false],
    ['x>1', '+', false],
    ['x>1', ' 2', false],
    ['x>1', '2 ', false],
    ['x>1', '1.5', false],
    ['x>1', '0x10', false],
    ['x>1', '1_0', false],
    ['x>1', '２', false], // full-width digit
    ['x>0', '00000000000000000000000000000001', true], // leading zeros do not count towards the range
  ])('%s with x=%j is %s', (text, value, expected) => {
    expect(parseSelector(text).matches(labels({ x: value }))).toBe(expected);
  });

  it('never matches a missing key', () => {
    expect(parseSelector('x>1').matches(labels({}))).toBe(false);
    expect(parseSelector('x<1').matches(labels({}))).toBe(false);
  });
});

describe('label lookup', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'])('sees %s only as an own label', (key) => {
    const plain = {};
    expect(selectorOf([{ key, operator: 'exists', values: [] }]).matches(plain)).toBe(false);
    expect(selectorOf([{ key, operator: '!', values: [] }]).matches(plain)).toBe(true);
    expect(selectorOf([{ key, operator: '!=', values: ['x'] }]).matches(plain)).toBe(true);
    expect(selectorOf([{ key, operator: 'notin', values: ['x'] }]).matches(plain)).toBe(true);
    expect(selectorOf([{ key, operator: '>', values: ['1'] }]).matches(plain)).toBe(false);
    const own = labels({});
    Object.defineProperty(own, key, { value: '5', enumerable: true });
    expect(selectorOf([{ key, operator: '=', values: ['5'] }]).matches(own)).toBe(true);
    expect(selectorOf([{ key, operator: '>', values: ['4'] }]).matches(own)).toBe(true);
  });

  it('parses constructor as an ordinary key', () => {
    const selector = parseSelector('constructor=x,hasOwnProperty');
    expect(selector.matches(labels({ constructor: 'x', hasOwnProperty: '' }))).toBe(true);
    expect(selector.matches({ hasOwnProperty: '' } as unknown as Labels)).toBe(false);
  });

  it('does not match non-string label values by accident', () => {
    const odd = { n: 5, s: null } as unknown as Labels;
    expect(parseSelector('n=5').matches(odd)).toBe(false);
    expect(parseSelector('n in (5,6)').matches(odd)).toBe(false);
    expect(parseSelector('n>4').matches(odd)).toBe(false);
    expect(parseSelector('s notin (a,b)').matches(odd)).toBe(true);
  });
});

describe('selectorOf', () => {
  it.each(['john@example.com', 'a b', '', 'in', 'x,y', 'ü', 'a'.repeat(500)])('excludes the actor %j by default', (actor) => {
    const selector = selectorOf([{ key: 'actor', operator: '!=', values: [actor] }]);
    expect(selector.toString()).toBe(`actor!=${actor}`);
    expect(selector.matches(labels({ actor }))).toBe(false);
    expect(selector.matches(labels({ actor: `${actor}2` }))).toBe(true);
    expect(selector.matches(labels({}))).toBe(true);
  });

  it('sorts requirements by key and in/notin values like the parser', () => {
    const selector = selectorOf([
      { key: 'z', operator: 'in', values: ['b', 'a', 'b'] },
      { key: 'a', operator: 'exists', values: [] },
      { key: 'm', operator: 'notin', values: [] },
    ]);
    expect(selector.toString()).toBe('a,m notin (),z in (a,b)');
    expect(selector.requirements.map((r) => r.key)).toEqual(['a', 'm', 'z']);
    expect(selector.requirements[2]?.values).toEqual(['a', 'b']);
    expect(selector.matches(labels({ a: '', z: 'a' }))).toBe(true);
    expect(selector.matches(labels({ a: '', z: 'c' }))).toBe(false);
  });

  it('copies and freezes what it is given', () => {
    const values = ['p'];
    const selector = selectorOf([{ key: 'k', operator: '=', values }]);
    values[0] = 'q';
    expect(selector.matches(labels({ k: 'p' }))).toBe(true);
    expect(Object.isFrozen(selector.requirements)).toBe(true);
    expect(Object.isFrozen(selector.requirements[0])).toBe(true);
  });

  it('matches nothing for > with a bound that is not an int64', () => {
    expect(selectorOf([{ key: 'x', operator: '>', values: ['abc'] }]).matches(labels({ x: '5' }))).toBe(false);
    expect(selectorOf([{ key: 'x', operator: '<', values: [] }]).matches(labels({ x: '5' }))).toBe(false);
  });

  it('matches nothing for in with no values and anything for notin with none', () => {
    expect(selectorOf([{ key: 'x', operator: 'in', values: [] }]).matches(labels({ x: '' }))).toBe(false);
    expect(selectorOf([{ key: 'x', operator: 'notin', values: [] }]).matches(labels({ x: '' }))).toBe(true);
  });

  it('orders astral characters after the rest of the BMP, as UTF-8 bytes do', () => {
    const selector = selectorOf([{ key: 'k', operator: 'in', values: ['\u{1F600}', '\uFFFD', 'a'] }]);
    expect(selector.requirements[0]?.values).toEqual(['a', '\uFFFD', '\u{1F600}']);
  });
});

describe('requirement order', () => {
  it('keeps equal keys in written order up to 12 requirements (Go uses insertion sort there)', () => {
    const text = ['b', 'a=1', 'c', 'a=2', 'b=1', 'a=3', '!a', 'c=1', 'a', 'b=2', 'a=4', 'a=5'].join(',');
    expect(parseSelector(text).toString()).toBe('a=1,a=2,a=3,!a,a,a=4,a=5,b,b=1,b=2,c,c=1');
  });

  it('sorts longer lists by key with the same algorithm as Go', () => {
    const keys = Array.from({ length: 200 }, (_, i) => ({ key: String.fromCharCode(97 + ((i * 7) % 26)), index: i }));
    const sorted = sortByKey(keys, (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    expect(sorted.map((k) => k.key)).toEqual(keys.map((k) => k.key).sort());
    expect(new Set(sorted.map((k) => k.index)).size).toBe(200);
  });

  it('prints 13 requirements with repeated keys in Go\'s (unstable) order, not a stable one', () => {
    // Traced by hand through Go's pdqsort: the pivot k0=v6 is swapped to the front, then
    // the remaining 12 are insertion-sorted. A stable sort would print k0=v0,k0=v3,k0=v6,...
    const text = Array.from({ length: 13 }, (_, i) => `k${i % 3}=v${i}`).join(',');
    expect(parseSelector(text).toString()).toBe(
      'k0=v6,k0=v3,k0=v0,k0=v9,k0=v12,k1=v1,k1=v4,k1=v7,k1=v10,k2=v2,k2=v5,k2=v8,k2=v11',
    );
  });
});
