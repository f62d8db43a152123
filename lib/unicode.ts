// Well-formed Unicode checks: JSON text and JavaScript strings may hold lone surrogates, which UTF-8, Redis keys and Lua cannot keep apart.

type MaybeWellFormed = string & { isWellFormed?: () => boolean };

/** Whether `text` holds no lone surrogate. `isWellFormed` is native from Node 20; the pattern covers older runtimes. */
export function isWellFormed(text: string): boolean {
  const native = (text as MaybeWellFormed).isWellFormed;
  return native === undefined ? !/\p{Cs}/u.test(text) : native.call(text);
}

/**
 * Whether every string inside `value` (object keys included) is well-formed. Each object is visited once, so
 * shared nodes (aliases) and cycles cost no more than their own size.
 */
export function isWellFormedDeep(value: unknown): boolean {
  if (typeof value === 'string') return isWellFormed(value);
  if (typeof value !== 'object' || value === null) return true;
  const seen = new Set<object>([value]);
  const stack: object[] = [value];
  while (stack.length > 0) {
    const node = stack.pop() as object;
    const isArray = Array.isArray(node);
    for (const key of Object.keys(node)) {
      if (!isArray && !isWellFormed(key)) return false;
      const child: unknown = (node as Record<string, unknown>)[key];
      if (typeof child === 'string') {
        if (!isWellFormed(child)) return false;
      } else if (typeof child === 'object' && child !== null && !seen.has(child)) {
        seen.add(child);
        stack.push(child);
      }
    }
  }
  return true;
}
