// Splits selector text into tokens exactly as the Kubernetes label-selector lexer does.

/** What a token is; `in`/`notin` are keywords here and become identifiers where the parser reads keys and values. */
export type TokenKind =
  | 'end' | 'identifier' | 'in' | 'notin'
  | '(' | ')' | ',' | '!' | '=' | '==' | '!=' | '>' | '<';

/** One token with the zero-based offset of its first character (for `end`: where the input stopped). */
export interface Token {
  readonly kind: TokenKind;
  /** The text of the token; '' for `end`. */
  readonly text: string;
  readonly position: number;
}

/**
 * Counts character reads and parser token steps, so tests can prove parsing is linear
 * without timing anything. Internal: not exported from the package.
 */
export const workCounter = { visits: 0 };

const SPACE = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

function isWhitespace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

function isSpecial(c: number): boolean {
  // = ! ( ) , > <
  return c === 0x3d || c === 0x21 || c === 0x28 || c === 0x29 || c === 0x2c || c === 0x3e || c === 0x3c;
}

/**
 * Tokenises `text`, ending with one `end` token.
 * Like Kubernetes (which reads bytes and uses 0 as its end marker), a NUL character ends an
 * identifier or operator and, where a token would start, ends the whole input.
 */
export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  const length = text.length;
  let pos = 0;

  // Returns 0 at the end (without advancing) and for a NUL character (which is consumed), as Go does.
  const read = (): number => {
    workCounter.visits++;
    if (pos < length) return text.charCodeAt(pos++);
    return 0;
  };

  for (;;) {
    let at: number;
    let c: number;
    do {
      at = pos;
      c = read();
    } while (isWhitespace(c));
    if (c === 0) {
      tokens.push({ kind: 'end', text: '', position: at });
      return tokens;
    }
    const start = pos - 1;
    if (isSpecial(c)) {
      tokens.push(scanOperator(c, start));
    } else {
      let end = pos;
      for (;;) {
        const d = read();
        if (d === 0) break; // a NUL stays consumed, as in Kubernetes
        if (isSpecial(d) || isWhitespace(d)) {
          pos--;
          break;
        }
        end = pos;
      }
      const word = text.slice(start, end);
      tokens.push({ kind: word === 'in' || word === 'notin' ? word : 'identifier', text: word, position: start });
    }
  }

  // Longest match among ! != = == ( ) , > < : at most two characters ever form one operator.
  function scanOperator(first: number, start: number): Token {
    let kind = String.fromCharCode(first) as TokenKind;
    const second = read();
    if (second === 0) return { kind, text: kind, position: start };
    if (second === 0x3d && (first === 0x21 || first === 0x3d)) {
      kind = first === 0x21 ? '!=' : '==';
      const third = read();
      if (third !== 0) pos--;
      return { kind, text: kind, position: start };
    }
    pos--;
    return { kind, text: kind, position: start };
  }
}
