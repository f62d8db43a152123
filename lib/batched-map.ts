// A Map of pending requests by id that forgets deleted keys in batches instead of one by one.

/** Deleted keys a BatchedMap may keep beyond its live ones before it rebuilds. */
const SLACK = 1024;

/**
 * The Map operations the hub and the store use on pending requests by id. A delete only marks the key
 * (its value becomes undefined, which no value is), and the Map is rebuilt with the live entries once marked ones outnumber them (plus SLACK), an O(1) cost per
 * delete over time.
 *
 * Why: with ids that are never reused, a Map that most requests enter and leave at once grows and
 * shrinks its hash table all the time; in V8 each of those tables, held by the long-lived Map, survives a
 * minor GC and is promoted with the requests in it. That promotion made every request costlier, and more
 * so beside a backlog of waiters that makes the heap large.
 */
export class BatchedMap<K, V extends object> {
  #map = new Map<K, V | undefined>();
  #live = 0;

  get size(): number {
    return this.#live;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.get(key) !== undefined;
  }

  set(key: K, value: V): this {
    if (this.#map.get(key) === undefined) {
      this.#live++;
      // A key deleted and set again goes last, as in a Map (values() keeps the order of arrival).
      this.#map.delete(key);
    }
    this.#map.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (this.#map.get(key) === undefined) return false;
    this.#map.set(key, undefined);
    this.#live--;
    if (this.#map.size - this.#live > this.#live + SLACK) this.#rebuild();
    return true;
  }

  clear(): void {
    this.#map = new Map();
    this.#live = 0;
  }

  *values(): IterableIterator<V> {
    for (const value of this.#map.values()) if (value !== undefined) yield value;
  }

  #rebuild(): void {
    const live = new Map<K, V | undefined>();
    for (const [key, value] of this.#map) if (value !== undefined) live.set(key, value);
    this.#map = live;
  }
}
