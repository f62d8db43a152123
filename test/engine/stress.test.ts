// Thousands of concurrent sends in one event: every pair is mutual and every request is in exactly one group.
import { Netsync } from '../../lib/netsync';
import type { Match } from '../../lib/types';
import { AsyncStore } from '../helpers/async-store';

/** Checks that each actor's result names a group that contains it, and that the groups agree with each other. */
function expectConsistentGroups(actors: readonly string[], results: readonly Match[], size: number): void {
  const groupOf = new Map<string, string>();
  results.forEach((match, i) => {
    const names = match.members.map((m) => m.actor);
    expect(names).toHaveLength(size);
    expect(names).toContain(actors[i]);
    expect(match.payloads[actors[i] as string]).toBe(i);
    groupOf.set(actors[i] as string, names.join(','));
  });
  for (const [actor, group] of groupOf) {
    for (const member of group.split(',')) expect(groupOf.get(member)).toBe(group);
    expect(group.split(',').filter((m) => m === actor)).toHaveLength(1);
  }
}

describe('many concurrent sends', () => {
  it.each([
    ['MemoryStore', (): Netsync => new Netsync()],
    ['an asynchronous store', (): Netsync => new Netsync({ store: new AsyncStore() })],
  ])('pairs 4000 distinct actors consistently (%s)', async (_name, makeHub) => {
    const hub = makeHub();
    try {
      const actors = Array.from({ length: 4000 }, (_, i) => `actor${i}`);
      const results = await Promise.all(actors.map((actor, i) => hub.send({ event: 'e', actor, payload: i })));
      expectConsistentGroups(actors, results, 2);
      expect(hub.pendingCount).toBe(0);
      expect(await hub.stats()).toEqual({});
    } finally {
      await hub.close();
    }
  });

  it('forms consistent groups of three from 3000 actors', async () => {
    const hub = new Netsync();
    try {
      const actors = Array.from({ length: 3000 }, (_, i) => `actor${i}`);
      const results = await Promise.all(actors.map((actor, i) => hub.send({ event: 'e', actor, payload: i, mates: 2 })));
      expectConsistentGroups(actors, results, 3);
      expect(hub.pendingCount).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
