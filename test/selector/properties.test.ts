// Property tests: total on hostile input, linear work, canonical round trips, and matching against a naive model.
import fc from 'fast-check';
import { parseSelector, SelectorError, type Labels, type Operator } from '../../lib/selector';
import { workCounter } from '../../lib/selector/lexer';

const PIECES = [
  'a', 'b', 'x', 'Z', 'k', '0', '7', '9', '-', '_', '.', '/', '=', '==', '!', '!=', '(', ')', ',', '<', '>',
  ' ', '\t', '\n', 'in', 'notin', ' in ', ' notin ', '\u0000', 'é', 'x.io/',
];
const hostileText = fc.array(fc.constantFrom(...PIECES), { maxLength: 400 }).map((parts) => parts.join('').slice(0, 1024));

function visitsFor(text: string): number {
  workCounter.visits = 0;
  try {
    parseSelector(text);
  } catch (error) {
    if (!(error instanceof SelectorError)) throw error;
  }
  return workCounter.visits;
}

const LINEAR_FACTOR = 8;

describe('hostile input', () => {
  it('either parses or throws SelectorError, for any text up to 1 KB', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        try {
          const selector = parseSelector(text);
          expect(typeof selector.toString()).toBe('string');
        } catch (error) {
          expect(error).toBeInstanceOf(SelectorError);
          const { position } = error as SelectorError;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('does work proportional to the input length on random input', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        expect(visitsFor(text)).toBeLessThanOrEqual(LINEAR_FACTOR * (text.length + 1));
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['commas', 'a,'.repeat(512)],
    ['open parens', '('.repeat(1024)],
    ['bangs', '!'.repeat(1024)],
    ['not-equals', '!='.repeat(512)],
    ['equals', '='.repeat(1024)],
    ['whitespace', ' \t\r\n'.repeat(256)],
    ['one identifier', 'a'.repeat(1024)],
    ['a bad long key', `${'a.'.repeat(511)}/-`],
    ['empty set items', `x in (${','.repeat(1016)})`],
    ['a long set', `x in (${'a,'.repeat(508)}a)`],
    ['many requirements', 'x=a,'.repeat(255).concat('x')],
    ['nested keywords', 'in in ('.repeat(146)],
    ['NULs', '\u0000'.repeat(1024)],
  ])('does linear work on %s', (_name, text) => {
    expect(text.length).toBeLessThanOrEqual(1024);
    expect(visitsFor(text)).toBeLessThanOrEqual(LINEAR_FACTOR * (text.length + 1));
  });
});

// --- valid selectors built from random requirements ---

interface Generated { key: string; operator: Operator; values: string[] }

const KEYS = ['a', 'b', 'kind', 'level', 'x.io/tier', 'in', 'notin', 'A_1', 'constructor'];
const VALUES = ['', 'a', 'b', 'bot', '0', '3', '10', '007', 'in', 'notin', 'x.y', 'Z-9'];
const INTS = ['0', '3', '10', '007', '9223372036854775807', '9007199254740993', '9007199254740992'];
const LABEL_VALUES = [...VALUES, ...INTS, '2', '4', '9', '11', '-3', '+4', '+3', '0003', '-0', '99999999999999999999', '-9223372036854775808', '9223372036854775808', '1.5'];
const ws = fc.constantFrom('', ' ', '\t', '\n', '  ');
const ws1 = fc.constantFrom(' ', '\t', '\r\n', '   ');

const requirement: fc.Arbitrary<Generated> = fc.oneof(
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom<Operator>('exists', '!'), values: fc.constant<string[]>([]) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom<Operator>('=', '==', '!='), values: fc.tuple(fc.constantFrom(...VALUES)).map((v) => [...v]) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom<Operator>('>', '<'), values: fc.tuple(fc.constantFrom(...INTS)).map((v) => [...v]) }),
  fc.record({ key: fc.constantFrom(...KEYS), operator: fc.constantFrom<Operator>('in', 'notin'), values: fc.array(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 4 }) }),
);

// Writes a requirement the way a person might, with random (legal) whitespace.
const spelled = (r: Generated): fc.Arbitrary<string> => {
  switch (r.operator) {
    case 'exists': return fc.constant(r.key);
    case '!': return ws.map((s) => `!${s}${r.key}`);
    case 'in':
    case 'notin':
      return fc.tuple(ws1, ws, ws, ws).map(([a, b, c, d]) => `${r.key}${a}${r.operator}${b}(${c}${r.values.join(`${d},${c}`)}${d})`);
    default:
      return fc.tuple(ws, ws).map(([a, b]) => `${r.key}${a}${r.operator}${b}${r.values[0] as string}`);
  }
};

const validSelector = fc.array(requirement, { maxLength: 8 }).chain((requirements) =>
  fc.tuple(fc.tuple(...requirements.map(spelled)), fc.array(fc.tuple(ws, ws), { minLength: requirements.length, maxLength: requirements.length }))
    .map(([parts, gaps]) => ({
      requirements,
      text: parts.map((p, i) => (i === 0 ? p : `${gaps[i]?.[0] ?? ''},${gaps[i]?.[1] ?? ''}${p}`)).join(''),
    })));

const uniqueSorted = (values: string[]): string[] => [...new Set(values)].sort();

function naiveCanonical(requirements: Generated[]): string {
  const sorted = requirements.map((r, i) => ({ r, i })).sort((x, y) => (x.r.key < y.r.key ? -1 : x.r.key > y.r.key ? 1 : x.i - y.i));
  return sorted.map(({ r }) => {
    if (r.operator === 'exists') return r.key;
    if (r.operator === '!') return `!${r.key}`;
    if (r.operator === 'in' || r.operator === 'notin') return `${r.key} ${r.operator} (${uniqueSorted(r.values).join(',')})`;
    return `${r.key}${r.operator}${r.values[0] as string}`;
  }).join(',');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
function goInt(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

function naiveMatches(requirements: Generated[], labels: Record<string, string>): boolean {
  return requirements.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const value = has ? labels[r.key] : undefined;
    switch (r.operator) {
      case 'exists': return has;
      case '!': return !has;
      case '=': case '==': case 'in': return has && r.values.includes(value as string);
      case '!=': case 'notin': return !has || !r.values.includes(value as string);
      default: {
        const left = has ? goInt(value as string) : undefined;
        const right = goInt(r.values[0] as string) as bigint;
        if (left === undefined) return false;
        return r.operator === '>' ? left > right : left < right;
      }
    }
  });
}

// Labels drawn mostly from the selector's own keys and values, so that edge cases (equal integers) come up often.
function labelSetFor(requirements: Generated[]): fc.Arbitrary<Record<string, string>> {
  const keys = [...requirements.map((r) => r.key), ...requirements.map((r) => r.key), ...KEYS];
  const values = [...requirements.flatMap((r) => r.values), ...requirements.flatMap((r) => r.values), ...LABEL_VALUES];
  return fc.array(fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...values)), { maxLength: 6 }).map((entries) => {
    const labels = Object.create(null) as Record<string, string>;
    for (const [k, v] of entries) labels[k] = v;
    return labels;
  });
}

const matchCase = validSelector.chain((generated) =>
  fc.tuple(fc.constant(generated), fc.array(labelSetFor(generated.requirements), { minLength: 1, maxLength: 6 })));

describe('valid selectors', () => {
  it('print the canonical form, which parses back to itself', () => {
    fc.assert(
      fc.property(validSelector, ({ requirements, text }) => {
        const printed = parseSelector(text).toString();
        expect(printed).toBe(naiveCanonical(requirements));
        expect(parseSelector(printed).toString()).toBe(printed);
      }),
      { numRuns: 300 },
    );
  });

  it('match exactly when a naive evaluation of the requirements says so', () => {
    fc.assert(
      fc.property(matchCase, ([{ requirements, text }, labelSets]) => {
        const selector = parseSelector(text);
        for (const labels of labelSets) {
          expect(selector.matches(labels as Labels)).toBe(naiveMatches(requirements, labels));
        }
      }),
      { numRuns: 300 },
    );
  });
});
