// Kubernetes label key and value rules (IsQualifiedName, IsValidLabelValue), as linear hand-written scans.

/** Longest label value, and longest name part of a key. */
export const MAX_NAME_LENGTH = 63;
/** Longest DNS-1123 subdomain, the optional prefix of a key. */
export const MAX_PREFIX_LENGTH = 253;

function isAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isLowerAlphanumeric(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a);
}

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over text[from, to); the range is not empty.
function isQualifiedNamePart(text: string, from: number, to: number): boolean {
  if (!isAlphanumeric(text.charCodeAt(from)) || !isAlphanumeric(text.charCodeAt(to - 1))) return false;
  for (let i = from + 1; i < to - 1; i++) {
    const c = text.charCodeAt(i);
    if (!isAlphanumeric(c) && c !== 0x2d && c !== 0x5f && c !== 0x2e) return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* over text[0, to); to > 0.
function isDns1123Subdomain(text: string, to: number): boolean {
  for (let i = 0; i < to; i++) {
    const c = text.charCodeAt(i);
    if (isLowerAlphanumeric(c)) continue;
    const first = i === 0;
    const last = i === to - 1;
    if (c === 0x2d && !first && !last) continue;
    // A dot separates two labels, so it needs an alphanumeric on both sides.
    if (c === 0x2e && !first && !last && isLowerAlphanumeric(text.charCodeAt(i - 1)) && isLowerAlphanumeric(text.charCodeAt(i + 1))) continue;
    return false;
  }
  return true;
}

/** Why `key` is not a valid label key, or undefined when it is (`[prefix/]name`, as Kubernetes' IsQualifiedName). */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash !== -1 && key.indexOf('/', slash + 1) !== -1) return 'a key has at most one \'/\'';
  if (slash !== -1) {
    if (slash === 0) return 'the prefix before \'/\' must not be empty';
    if (slash > MAX_PREFIX_LENGTH) return `the prefix before '/' must be no more than ${MAX_PREFIX_LENGTH} characters`;
    if (!isDns1123Subdomain(key, slash)) {
      return 'the prefix before \'/\' must be a DNS subdomain: lower case alphanumerics, \'-\' or \'.\', starting and ending with an alphanumeric';
    }
  }
  const from = slash + 1;
  const length = key.length - from;
  if (length === 0) return 'the name part must not be empty';
  if (length > MAX_NAME_LENGTH) return `the name part must be no more than ${MAX_NAME_LENGTH} characters`;
  if (!isQualifiedNamePart(key, from, key.length)) {
    return 'the name part must consist of alphanumerics, \'-\', \'_\' or \'.\', starting and ending with an alphanumeric';
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined when it is (empty, or ≤63 alphanumerics/`-_.` starting and ending alphanumeric). */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > MAX_NAME_LENGTH) return `a value must be no more than ${MAX_NAME_LENGTH} characters`;
  if (value.length > 0 && !isQualifiedNamePart(value, 0, value.length)) {
    return 'a value must be empty or consist of alphanumerics, \'-\', \'_\' or \'.\', starting and ending with an alphanumeric';
  }
  return undefined;
}

/** True for a valid Kubernetes label key, e.g. `kind` or `example.com/tier`. */
export function isValidLabelKey(key: string): boolean {
  return typeof key === 'string' && labelKeyProblem(key) === undefined;
}

/** True for a valid Kubernetes label value (the empty string is valid). */
export function isValidLabelValue(value: string): boolean {
  return typeof value === 'string' && labelValueProblem(value) === undefined;
}
