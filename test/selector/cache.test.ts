// BoundedCache: forgets the oldest entries past its count or its total weight, and never keeps an entry that is too heavy.
import { BoundedCache } from '../../lib/selector/cache';

const limits = { maxEntries: 3, maxWeight: 10, maxEntryWeight: 6 };

test('forgets its oldest entry past its entry count', () => {
  const cache = new BoundedCache<string, number>(limits);
  for (const [key, value] of [['a', 1], ['b', 2], ['c', 3], ['d', 4]] as const) cache.set(key, value, 1);
  expect(cache.size).toBe(3);
  expect(['a', 'b', 'c', 'd'].map((k) => cache.get(k))).toEqual([undefined, 2, 3, 4]);
});

test('forgets its oldest entries past its total weight', () => {
  const cache = new BoundedCache<string, number>(limits);
  cache.set('a', 1, 4);
  cache.set('b', 2, 4);
  expect(cache.weight).toBe(8);
  cache.set('c', 3, 5);
  expect(['a', 'b', 'c'].map((k) => cache.get(k))).toEqual([undefined, 2, 3]);
  expect(cache.weight).toBe(9);
});

test('never keeps an entry heavier than maxEntryWeight, and keeps what it had', () => {
  const cache = new BoundedCache<string, number>(limits);
  cache.set('a', 1, 2);
  cache.set('huge', 2, 7);
  expect([cache.get('a'), cache.get('huge'), cache.size, cache.weight]).toEqual([1, undefined, 1, 2]);
});

test('setting a key again replaces its weight', () => {
  const cache = new BoundedCache<string, number>(limits);
  cache.set('a', 1, 6);
  cache.set('a', 2, 1);
  expect([cache.get('a'), cache.size, cache.weight]).toEqual([2, 1, 1]);
});
