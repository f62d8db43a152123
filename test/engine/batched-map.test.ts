// BatchedMap answers as a Map would, through deletes it only marks and the rebuilds that drop them.
import { BatchedMap } from '../../lib/batched-map';
import { seeded } from '../helpers/random';

describe('BatchedMap', () => {
  it('matches a Map over random sets, deletes and re-sets, across many rebuilds', () => {
    const random = seeded(17);
    const map = new BatchedMap<string, { n: number }>();
    const model = new Map<string, { n: number }>();
    let next = 0;
    // Keys in flight, oldest first: most leave soon after they came (the hub's and the store's traffic), so
    // deleted keys pile up past the live ones over and over.
    const flying: string[] = [];
    for (let step = 0; step < 20_000; step++) {
      const roll = random();
      let key: string;
      if (roll < 0.5 || flying.length === 0) {
        key = `k${next++}`;
        flying.push(key);
        const value = { n: step };
        map.set(key, value);
        model.set(key, value);
      } else if (roll < 0.93) {
        key = flying.splice(Math.floor(random() * Math.min(8, flying.length)), 1)[0] as string;
        expect(map.delete(key)).toBe(model.delete(key));
        expect(map.delete(key)).toBe(false);
      } else {
        // An older key, live or long gone, set again: a live one keeps its place, a gone one goes last.
        key = `k${Math.floor(random() * next)}`;
        const value = { n: step };
        map.set(key, value);
        if (!model.has(key)) flying.push(key);
        model.set(key, value);
      }
      if (step % 997 === 0) {
        expect(map.size).toBe(model.size);
        expect([...map.values()]).toEqual([...model.values()]);
      }
      expect(map.get(key)).toBe(model.get(key));
      expect(map.has(key)).toBe(model.has(key));
    }
    expect([...map.values()]).toEqual([...model.values()]);
    map.clear();
    expect({ size: map.size, values: [...map.values()], has: map.has('k1') }).toEqual({ size: 0, values: [], has: false });
  });

  it('keeps the order of arrival of a key deleted and set again, as a Map does', () => {
    const map = new BatchedMap<string, { v: string }>();
    map.set('a', { v: 'A' }).set('b', { v: 'B' }).set('c', { v: 'C' });
    map.delete('a');
    map.set('a', { v: 'A2' });
    map.set('b', { v: 'B2' });
    expect([...map.values()].map(({ v }) => v)).toEqual(['B2', 'C', 'A2']);
    expect(map.delete('zz')).toBe(false);
    expect(map.size).toBe(3);
  });
});
