// Go's strconv.ParseInt(s, 10, 64) for `>`/`<`: exact int64 comparison without BigInt or allocation.

/** A decimal int64: its sign and its significant digits ('' for zero, which is never negative). */
export interface DecimalInt {
  readonly negative: boolean;
  readonly digits: string;
}

const MAX_DIGITS = '9223372036854775807';
const MIN_DIGITS = '9223372036854775808';

// Compares `length` digits of a from `aFrom` with b from `bFrom`.
function compareDigits(a: string, aFrom: number, b: string, bFrom: number, length: number): number {
  for (let i = 0; i < length; i++) {
    const d = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

const ZERO: DecimalInt = { negative: false, digits: '' };

/**
 * Compares `text`, read as Go's ParseInt base 10 would (optional sign, decimal digits, int64 range),
 * with `ref`: -1, 0 or 1, or NaN when ParseInt would fail. Allocates nothing.
 */
export function compareDecimal(text: string, ref: DecimalInt): number {
  const length = text.length;
  if (length === 0) return NaN;
  let i = 0;
  let negative = false;
  const sign = text.charCodeAt(0);
  if (sign === 0x2b || sign === 0x2d) {
    negative = sign === 0x2d;
    i = 1;
    if (length === 1) return NaN;
  }
  let first = -1; // first significant digit
  for (let k = i; k < length; k++) {
    const c = text.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return NaN;
    if (first === -1 && c !== 0x30) first = k;
  }
  const count = first === -1 ? 0 : length - first;
  if (count > 19) return NaN;
  if (count === 19 && compareDigits(text, first, negative ? MIN_DIGITS : MAX_DIGITS, 0, 19) > 0) return NaN;
  if (count === 0) negative = false;
  if (negative !== ref.negative) return negative ? -1 : 1;
  const refCount = ref.digits.length;
  const magnitude = count !== refCount ? (count < refCount ? -1 : 1) : compareDigits(text, first, ref.digits, 0, count);
  return negative ? -magnitude : magnitude;
}

/** Parses `text` as Go's strconv.ParseInt(text, 10, 64) does; undefined where Go reports an error. */
export function parseDecimal(text: string): DecimalInt | undefined {
  if (Number.isNaN(compareDecimal(text, ZERO))) return undefined;
  let i = text.charCodeAt(0) === 0x2b || text.charCodeAt(0) === 0x2d ? 1 : 0;
  const negative = text.charCodeAt(0) === 0x2d;
  while (i < text.length && text.charCodeAt(i) === 0x30) i++;
  const digits = text.slice(i);
  return digits === '' ? ZERO : { negative, digits };
}
