// Grammar edge cases and every error path of the selector parser, with positions.
import { parseSelector, SelectorError } from '../../lib/selector';

function errorOf(text: string): SelectorError {
  try {
    parseSelector(text);
  } catch (error) {
    if (error instanceof SelectorError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

const canonical = (text: string): string => parseSelector(text).toString();

describe('lexer', () => {
  it.each([
    ['x<=1', 'found \'=\''], // `<=` is `<` then `=`
    ['x>=1', 'found \'=\''],
    ['x===a', 'found \'=\''], // `==` then `=`
    ['x!==a', 'found \'=\''],
    ['x=!a', 'found \'!\''],
  ])('splits %s into the longest known operators', (text, found) => {
    expect(errorOf(text).message).toContain(found);
  });

  it.each([
    ['a\tin\r(b)', 'a in (b)'],
    ['\n\na  !=  b\t', 'a!=b'],
    ['a==b', 'a==b'],
    ['a=b,c', 'a=b,c'],
  ])('treats space, tab, CR and LF as whitespace: %j', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it('does not treat other whitespace as a separator', () => {
    expect(() => parseSelector('a\u00a0=b')).toThrow(SelectorError);
    expect(() => parseSelector('a\v')).toThrow(SelectorError);
  });

  it('reads in/notin as keys and values but as operators after a key', () => {
    expect(canonical('notin=in')).toBe('notin=in');
    expect(canonical('in')).toBe('in');
    expect(canonical('!notin')).toBe('!notin');
    expect(canonical('in in (in,notin)')).toBe('in in (in,notin)');
    expect(canonical('x notin (in)')).toBe('x notin (in)');
    expect(() => parseSelector('x in in')).toThrow(SelectorError);
  });

  it('ends the input at a NUL where a token would start, as Kubernetes (which reads bytes) does', () => {
    expect(canonical('x \u0000 garbage ((')).toBe('x');
    expect(canonical('x=\u0000y')).toBe('x=y'); // a NUL right after an operator is swallowed
    expect(canonical('x\u0000=y')).toBe('x=y'); // and so is one ending an identifier
    expect(() => parseSelector('x\u0000y')).toThrow(SelectorError);
  });
});

describe('grammar', () => {
  it.each([
    ['x=', 'x='],
    ['x==', 'x=='],
    ['x!=', 'x!='],
    ['x=,y', 'x=,y'],
    ['x in (,)', 'x in ()'],
    ['x in (,a)', 'x in (,a)'],
    ['x in (a,)', 'x in (,a)'],
    ['x in (a,,b)', 'x in (,a,b)'],
    ['x in (b,a,b)', 'x in (a,b)'],
    ['x in ( a , b )', 'x in (a,b)'],
    ['x notin ()', 'x notin ()'],
    ['x>01', 'x>01'],
    ['!a,a', '!a,a'],
    ['a,!a', 'a,!a'],
    ['b=1,a=2,!c,d in (z,y),e notin (q),f>3,g<4,h==5,i!=6', 'a=2,b=1,!c,d in (y,z),e notin (q),f>3,g<4,h==5,i!=6'],
  ])('%j prints as %j', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });

  it('keeps requirements with the same key in their written order', () => {
    expect(canonical('a=2,b,a=1,a')).toBe('a=2,a=1,a,b');
  });

  it('sorts keys bytewise', () => {
    expect(canonical('b,a,B,a.b/c,a-b')).toBe('B,a,a-b,a.b/c,b');
  });

  it('prints the empty selector as an empty string and matches everything', () => {
    const selector = parseSelector('  \t ');
    expect(selector.toString()).toBe('');
    expect(selector.requirements).toEqual([]);
    expect(selector.matches({})).toBe(true);
  });

  it('exposes the requirements as plain sorted data', () => {
    expect(parseSelector('kind in (player,bot),!banned,level>3').requirements).toEqual([
      { key: 'banned', operator: '!', values: [] },
      { key: 'kind', operator: 'in', values: ['bot', 'player'] },
      { key: 'level', operator: '>', values: ['3'] },
    ]);
    expect(JSON.parse(JSON.stringify(parseSelector('a=1,b')))).toBe('a=1,b');
  });
});

describe('errors', () => {
  it.each([
    // text, position, expected, message part
    ['x=a,', 4, 'identifier after \',\'', 'found \'\', expected: identifier after \',\' at 4'],
    [',x', 0, '!, identifier, or \'end of string\'', 'found \',\''],
    ['x,,y', 2, 'identifier after \',\'', 'found \',\''],
    ['(', 0, '!, identifier, or \'end of string\'', 'found \'(\''],
    ['x=a b', 4, '\',\' or \'end of string\'', 'found \'b\', expected: \',\' or \'end of string\' at 4'],
    ['!x=a', 2, '\',\' or \'end of string\'', 'found \'=\''],
    ['!x in (a)', 3, '\',\' or \'end of string\'', 'found \'in\''],
    ['!!x', 1, 'identifier', 'found \'!\', expected: identifier at 1'],
    ['!', 1, 'identifier', 'found \'\', expected: identifier'],
    ['x nott in (y)', 2, 'in, notin, =, ==, !=, >, <', 'found \'nott\''],
    ['a (', 2, 'in, notin, =, ==, !=, >, <', 'found \'(\''],
    ['x in', 4, '\'(\'', 'found \'\''],
    ['x in a', 5, '\'(\'', 'found \'a\''],
    ['a notin(', 8, '\',\', \')\' or identifier', 'found \'\''],
    ['x in (=)', 6, '\',\', \')\' or identifier', 'found \'=\''],
    ['a in (xyz abc)', 10, '\',\' or \')\'', 'found \'abc\''],
    ['a in (x,!)', 8, '\',\', or identifier', 'found \'!\', expected: \',\', or identifier at 8'],
    ['a in (x,', 8, '\',\', or identifier', 'found \'\''],
    ['x=(', 2, 'identifier', 'found \'(\', expected: identifier at 2'],
    ['x>', 2, 'label value', '\'>\' needs an integer'],
  ])('%j fails at %i expecting %s', (text, position, expected, message) => {
    const error = errorOf(text);
    expect(error.position).toBe(position);
    expect(error.expected).toBe(expected);
    expect(error.message).toContain(message);
    expect(error.name).toBe('SelectorError');
  });

  it('rejects a non-string selector', () => {
    expect(() => parseSelector(3 as unknown as string)).toThrow(SelectorError);
  });
});

describe('key and value rules', () => {
  const name63 = 'a'.repeat(63);
  const prefix253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;

  it('accepts names of 63 and prefixes of 253 characters', () => {
    expect(prefix253).toHaveLength(253);
    expect(canonical(`${prefix253}/${name63}=${name63}`)).toBe(`${prefix253}/${name63}=${name63}`);
  });

  it.each([
    [`${'a'.repeat(64)}`, 'no more than 63'],
    [`${prefix253}x/a`, 'no more than 253'],
    ['/a', 'must not be empty'],
    ['a/', 'name part must not be empty'],
    ['a/b/c', 'at most one'],
    ['A.com/b', 'DNS subdomain'],
    ['a..b/c', 'DNS subdomain'],
    ['-a/b', 'DNS subdomain'],
    ['a-/b', 'DNS subdomain'],
    ['a.-b/c', 'DNS subdomain'],
    ['a_b/c', 'DNS subdomain'],
    ['-a', 'name part'],
    ['a-', 'name part'],
    ['a@b', 'name part'],
    ['é', 'name part'],
  ])('rejects the key %j (%s)', (key, problem) => {
    const error = errorOf(`${key}=v`);
    expect(error.position).toBe(0);
    expect(error.expected).toBe('label key');
    expect(error.message).toContain(problem);
  });

  it.each(['Ab.c-d_e', 'a', '1', 'a.b', 'A_B', '0-0'])('accepts the value %j', (value) => {
    expect(canonical(`k=${value}`)).toBe(`k=${value}`);
  });

  it.each([
    [`${'v'.repeat(64)}`, 'no more than 63'],
    ['-v', 'alphanumeric'],
    ['v.', 'alphanumeric'],
    ['v/w', 'alphanumeric'],
    ['v@w', 'alphanumeric'],
  ])('rejects the value %j (%s)', (value, problem) => {
    const error = errorOf(`key in (ok, ${value})`);
    expect(error.position).toBe(12);
    expect(error.expected).toBe('label value');
    expect(error.message).toContain(problem);
  });

  it('accepts int64 bounds for > and < and nothing beyond', () => {
    expect(canonical('x>9223372036854775807')).toBe('x>9223372036854775807');
    expect(canonical('x<0009223372036854775807')).toBe('x<0009223372036854775807');
    expect(canonical('x<0')).toBe('x<0');
    for (const bad of ['x>9223372036854775808', 'x>99999999999999999999', 'x<-1', 'x>+1', 'x>1.5', 'x>1e3', 'x>0x10', 'x>1_000', 'x<']) {
      expect(errorOf(bad).expected).toBe('label value');
    }
  });
});
