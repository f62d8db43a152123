// A cache of compiled selectors bounded by entry count and by the text it keeps: a few huge selectors must not hold the heap.

/** Bounds of a BoundedCache. */
export interface CacheLimits {
  /** Most entries kept. */
  readonly maxEntries: number;
  /** Most total weight kept (for selectors: characters of text). */
  readonly maxWeight: number;
  /** Heaviest single entry worth keeping; heavier ones are not cached at all. */
  readonly maxEntryWeight: number;
}

/**
 * A map that forgets its oldest entries past `maxEntries` entries or `maxWeight` total weight, and never
 * keeps an entry heavier than `maxEntryWeight`: caching is for the many small selectors clients repeat, and a
 * rare big one costs only its own parse.
 */
export class BoundedCache<K, V> {
  readonly #entries = new Map<K, { readonly value: V; readonly weight: number }>();
  #weight = 0;

  constructor(readonly limits: CacheLimits) {}

  get(key: K): V | undefined {
    return this.#entries.get(key)?.value;
  }

  /** Keep `value` under `key` with `weight` (for selectors, the length of its text). */
  set(key: K, value: V, weight: number): void {
    if (weight > this.limits.maxEntryWeight) return;
    this.delete(key);
    while (this.#entries.size > 0 && (this.#entries.size >= this.limits.maxEntries || this.#weight + weight > this.limits.maxWeight)) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
    if (this.#entries.size >= this.limits.maxEntries || weight > this.limits.maxWeight) return;
    this.#entries.set(key, { value, weight });
    this.#weight += weight;
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Total weight of the entries kept. */
  get weight(): number {
    return this.#weight;
  }
}
