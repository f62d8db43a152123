// Turns tokens into requirements following the Kubernetes label-selector grammar, quirks included.
import { SelectorError } from './error';
import { lex, workCounter, type Token, type TokenKind } from './lexer';
import { requirementProblem, sortedUnique } from './requirement';
import type { Operator, Requirement } from './types';
import { labelKeyProblem } from './validation';

// Kubernetes reads `in`/`notin` as identifiers wherever a key or value may stand.
type Context = 'operator' | 'values';

const OPERATORS: Partial<Record<TokenKind, Operator>> = {
  in: 'in', notin: 'notin', '=': '=', '==': '==', '!=': '!=', '>': '>', '<': '<',
};

function fail(found: Token, expected: string): never {
  throw new SelectorError(`found '${found.text}', expected: ${expected} at ${found.position}`, found.position, expected);
}

/** Parses selector text into its requirements, in the order written. Throws SelectorError. */
export function parseRequirements(text: string): Requirement[] {
  const tokens = lex(text);
  let index = 0;

  const kindOf = (token: Token, context: Context): TokenKind =>
    context === 'values' && (token.kind === 'in' || token.kind === 'notin') ? 'identifier' : token.kind;
  // The token list always ends with `end`, and no rule reads past it.
  const peek = (): Token => {
    workCounter.visits++;
    return tokens[index] as Token;
  };
  const next = (): Token => {
    workCounter.visits++;
    return tokens[index++] as Token;
  };

  const requirements: Requirement[] = [];
  for (;;) {
    const head = peek();
    const kind = kindOf(head, 'values');
    if (kind === 'end') return requirements;
    if (kind !== 'identifier' && kind !== '!') fail(head, "!, identifier, or 'end of string'");
    requirements.push(parseRequirement());
    const after = next();
    if (after.kind === 'end') return requirements;
    if (after.kind !== ',') fail(after, "',' or 'end of string'");
    const following = peek();
    const followingKind = kindOf(following, 'values');
    if (followingKind !== 'identifier' && followingKind !== '!') fail(following, "identifier after ','");
  }

  function parseRequirement(): Requirement {
    let keyToken = next();
    let operator: Operator | undefined;
    if (keyToken.kind === '!') {
      operator = '!';
      keyToken = next();
    }
    if (kindOf(keyToken, 'values') !== 'identifier') fail(keyToken, 'identifier');
    const key = keyToken.text;
    // Kubernetes checks the key before looking further.
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined) {
      throw new SelectorError(`invalid label key ${JSON.stringify(key)}: ${keyProblem} at ${keyToken.position}`, keyToken.position, 'label key');
    }
    const ahead = kindOf(peek(), 'values');
    // `!key` ends the requirement whatever follows; the outer loop then rejects anything but ',' or the end.
    if (operator === undefined && (ahead === 'end' || ahead === ',')) operator = 'exists';
    if (operator !== undefined) return build(key, keyToken, operator, [], []);

    const operatorToken = next();
    operator = OPERATORS[kindOf(operatorToken, 'operator')];
    if (operator === undefined) fail(operatorToken, 'in, notin, =, ==, !=, >, <');
    if (operator === 'in' || operator === 'notin') {
      const { values, positions } = parseValueSet();
      const list = sortedUnique(values);
      return build(key, keyToken, operator, list, list.map((v) => positions.get(v) ?? keyToken.position));
    }
    const valueToken = peek();
    const valueKind = kindOf(valueToken, 'values');
    if (valueKind === 'end' || valueKind === ',') return build(key, keyToken, operator, [''], [valueToken.position]);
    next();
    if (valueKind !== 'identifier') fail(valueToken, 'identifier');
    return build(key, keyToken, operator, [valueToken.text], [valueToken.position]);
  }

  // `( values )`: `()` is the single value '', and empty items around commas are '' too.
  function parseValueSet(): { values: string[]; positions: Map<string, number> } {
    const values: string[] = [];
    const positions = new Map<string, number>();
    const add = (value: string, position: number): void => {
      values.push(value);
      if (!positions.has(value)) positions.set(value, position);
    };
    const open = next();
    if (kindOf(open, 'values') !== '(') fail(open, "'('");
    const first = peek();
    const firstKind = kindOf(first, 'values');
    if (firstKind === ')') {
      next();
      add('', first.position);
      return { values, positions };
    }
    if (firstKind !== 'identifier' && firstKind !== ',') fail(first, "',', ')' or identifier");
    for (;;) {
      const token = next();
      const kind = kindOf(token, 'values');
      if (kind === 'identifier') {
        add(token.text, token.position);
        const ahead = peek();
        const aheadKind = kindOf(ahead, 'values');
        if (aheadKind === ')') break;
        if (aheadKind !== ',') fail(ahead, "',' or ')'");
      } else if (kind === ',') {
        if (values.length === 0) add('', token.position);
        const ahead = peek();
        const aheadKind = kindOf(ahead, 'values');
        if (aheadKind === ')') {
          add('', ahead.position);
          break;
        }
        // ',,' is an empty value; the second comma is read on the next turn (older Kubernetes skipped it and rejected `(a,,)`).
        if (aheadKind === ',') add('', ahead.position);
      } else {
        fail(token, "',', or identifier");
      }
    }
    next(); // the ')' seen above
    return { values, positions };
  }

  function build(key: string, keyToken: Token, operator: Operator, values: string[], positions: number[]): Requirement {
    const problem = requirementProblem(key, operator, values);
    if (problem !== undefined) {
      const position = problem.valueIndex === undefined ? keyToken.position : (positions[problem.valueIndex] ?? keyToken.position);
      throw new SelectorError(`${problem.message} at ${position}`, position, problem.valueIndex === undefined ? 'label key' : 'label value');
    }
    return { key, operator, values };
  }
}
