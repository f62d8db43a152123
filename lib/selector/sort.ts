// Orders requirements by key the way Kubernetes' sort.Sort(ByKey) does.

/**
 * Sorts a copy of `items`. Go's sort.Sort uses insertion sort (stable) below 13 elements,
 * which is every selector in practice; longer lists are sorted stably too.
 */
export function sortByKey<T>(items: readonly T[], compare: (a: T, b: T) => number): T[] {
  return [...items].sort(compare);
}
