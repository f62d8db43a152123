// The expanded size of a decoded body, counted over its shared object graph: an aliased node counts every time
// it is used, yet is walked only once, so a small body that stands for a huge tree is measured without building it.

/**
 * Sizes of decoded values, remembered per object. A value's size is one per scalar and container plus the
 * characters of every string and key: never more than the JSON text of an alias-free value, so a body within
 * the byte limit measures within it too unless aliases multiply it.
 */
export class ExpandedSizes {
  readonly #sizes = new WeakMap<object, number>();

  /** Whether `node`'s size is known (it was measured, so it is complete). */
  has(node: object): boolean {
    return this.#sizes.has(node);
  }

  /** The size of `value`; a cycle makes it infinite. Recurses only into nodes not measured before. */
  of(value: unknown): number {
    if (typeof value === 'string') return value.length;
    if (typeof value !== 'object' || value === null) return 1;
    const known = this.#sizes.get(value);
    if (known !== undefined) return known;
    // Marked first: a node reached again while it is being measured is a cycle, which expands without end.
    this.#sizes.set(value, Number.POSITIVE_INFINITY);
    let size = 1;
    if (Array.isArray(value)) {
      for (const child of value as unknown[]) size += this.of(child);
    } else {
      for (const key of Object.keys(value)) size += key.length + this.of((value as Record<string, unknown>)[key]);
    }
    this.#sizes.set(value, size);
    return size;
  }
}

/** The expanded size of a decoded value (see ExpandedSizes). Call it on values no deeper than the stack allows. */
export function expandedSize(value: unknown): number {
  return new ExpandedSizes().of(value);
}
