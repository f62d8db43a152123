// Label text and maps: Kubernetes key/value rules, null-prototype results, and the errors.
import { isValidLabelKey, isValidLabelValue, parseLabels, SelectorError, validateLabels } from '../../lib/selector';

function errorOf(run: () => unknown): SelectorError {
  try {
    run();
  } catch (error) {
    if (error instanceof SelectorError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('parseLabels', () => {
  it('parses k=v pairs, trimming whitespace, into a null-prototype object', () => {
    const labels = parseLabels(' kind = player ,\tlevel=3,example.com/tier=gold,empty=');
    expect(Object.getPrototypeOf(labels)).toBeNull();
    expect({ ...labels }).toEqual({ kind: 'player', level: '3', 'example.com/tier': 'gold', empty: '' });
  });

  it('reads empty or blank text as no labels', () => {
    expect(Object.keys(parseLabels(''))).toEqual([]);
    expect(Object.keys(parseLabels(' \t'))).toEqual([]);
  });

  it('keeps constructor and __proto__ as ordinary keys', () => {
    const labels = parseLabels('constructor=a,proto=b');
    expect(labels.constructor).toBe('a');
    expect(Object.keys(parseLabels('hasOwnProperty=x'))).toEqual(['hasOwnProperty']);
  });

  it.each([
    ['a', 0, 'key=value'],
    ['a=b,c', 4, 'key=value'],
    ['a=b,', 4, 'key=value'],
    [',a=b', 0, 'key=value'],
    ['a=b=c', 0, 'key=value'],
    ['a==b', 0, 'key=value'],
    ['a=b, -c=d', 5, 'label key'],
    ['=b', 0, 'label key'],
    ['a=b c', 2, 'label value'],
    [`a=${'v'.repeat(64)}`, 2, 'label value'],
    ['a=1, a=2', 5, 'a key not given before'],
  ])('rejects %j at %i (%s)', (text, position, expected) => {
    const error = errorOf(() => parseLabels(text));
    expect(error.position).toBe(position);
    expect(error.expected).toBe(expected);
  });
});

describe('validateLabels', () => {
  it('returns a null-prototype copy', () => {
    const input = { kind: 'bot', 'x.io/y': '' };
    const labels = validateLabels(input);
    expect(Object.getPrototypeOf(labels)).toBeNull();
    expect({ ...labels }).toEqual(input);
    expect(labels).not.toBe(input);
  });

  it('treats an own __proto__ key as data', () => {
    const input = JSON.parse('{"__proto__":"x"}') as Record<string, string>;
    const error = errorOf(() => validateLabels(input));
    expect(error.expected).toBe('label key'); // `_` cannot start a key
    const ok = validateLabels(JSON.parse('{"constructor":"x"}') as Record<string, string>);
    expect(Object.keys(ok)).toEqual(['constructor']);
  });

  it.each([
    [{ a: 3 }, 'string'],
    [{ a: null }, 'string'],
    [{ a: ['x'] }, 'string'],
    [{ 'bad key': 'x' }, 'label key'],
    [{ a: 'bad value' }, 'label value'],
  ])('rejects %j', (input, expected) => {
    expect(errorOf(() => validateLabels(input as unknown as Record<string, string>)).expected).toBe(expected);
  });

  it.each([null, [], 'a=b', 5])('rejects %j as a label map', (input) => {
    expect(errorOf(() => validateLabels(input as unknown as Record<string, string>)).expected).toBe('a map');
  });
});

describe('isValidLabelKey / isValidLabelValue', () => {
  it('follow the Kubernetes rules', () => {
    expect(isValidLabelKey('a')).toBe(true);
    expect(isValidLabelKey('example.com/a')).toBe(true);
    expect(isValidLabelKey('')).toBe(false);
    expect(isValidLabelKey('a/b/c')).toBe(false);
    expect(isValidLabelKey(5 as unknown as string)).toBe(false);
    expect(isValidLabelValue('')).toBe(true);
    expect(isValidLabelValue('a.b')).toBe(true);
    expect(isValidLabelValue('a.')).toBe(false);
    expect(isValidLabelValue('v'.repeat(63))).toBe(true);
    expect(isValidLabelValue('v'.repeat(64))).toBe(false);
  });
});
