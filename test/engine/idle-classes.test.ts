// Classes and families that empty stay idle for their next request and are swept once idle ones outnumber the
// rest: matching must not see the difference, through a hub and a bare MemoryStore alike.
import { Netsync } from '../../lib/netsync';
import { normalizeParams } from '../../lib/params';
import { MemoryStore } from '../../lib/stores/memory';
import type { Group, PendingRequest } from '../../lib/stores/types';
import type { SendParams } from '../../lib/types';

let nextId = 0;
function request(params: SendParams): PendingRequest {
  const { params: p, selector, classKey, spec, stages } = normalizeParams(params, { maxMates: 64 });
  return { id: `r${nextId++}`, params: p, selector, classKey, spec, stages, createdAt: Date.now() };
}

describe('idle classes and families', () => {
  it('pairs every arrival right while hundreds of classes and families go idle, come back and are swept', async () => {
    const store = new MemoryStore();
    const groups: Group[] = [];
    store.onMatch((group) => groups.push(group));
    // A backlog nobody meets, so the bucket stays and its idle classes and families pile up beside it.
    for (let i = 0; i < 100; i++) await store.offer(request({ event: 'e', actor: `ghost${i}`, selector: 'role=ghost' }));
    for (let round = 0; round < 1500; round++) {
      const a = `a${round % 230}`;
      const b = `b${round % 170}`;
      // A selector per round of 210 keeps families coming and going too; each still admits b.
      await store.offer(request({ event: 'e', actor: a, labels: { side: 'a' }, selector: `actor!=nobody${round % 210}` }));
      const withdrawn = request({ event: 'e', actor: `w${round % 190}`, labels: { side: 'w' }, selector: 'side=none' });
      await store.offer(withdrawn);
      expect(await store.withdraw(withdrawn.id)).toBe(true);
      await store.offer(request({ event: 'e', actor: b, labels: { side: 'b' }, selector: 'side=a' }));
      expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([[a, b]]);
      groups.length = 0;
    }
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(Array.from({ length: 100 }, (_, i) => `ghost${i}`));
    // The backlog is intact and still found: a newcomer it accepts meets the oldest of it.
    await store.offer(request({ event: 'e', actor: 'gm', labels: { role: 'ghost' } }));
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['ghost0', 'gm']]);
  });

  it('finds a family that went idle and came back, beside distinct selectors and idle families of one-off newcomers', async () => {
    const store = new MemoryStore();
    const groups: Group[] = [];
    store.onMatch((group) => groups.push(group));
    // Anchored families of their own (each waits for an absent friend), so the bucket indexes its families.
    for (let i = 0; i < 40; i++) await store.offer(request({ event: 'e', actor: `ghost${i}`, selector: `actor=absent${i}` }));
    for (let round = 0; round < 400; round++) {
      const side = `s${round % 5}`;
      // Its family (`side=s<k>`) empties each round and comes back five rounds later; now and then it leaves
      // by withdrawal instead of a match.
      if (round % 3 === 0) {
        const leaving = request({ event: 'e', actor: `v${round % 7}`, selector: `side=${side}` });
        await store.offer(leaving);
        expect(await store.withdraw(leaving.id)).toBe(true);
      }
      await store.offer(request({ event: 'e', actor: `x${round % 7}`, selector: `side=${side}` }));
      // A one-off newcomer: its default selector (`actor!=y<round>`) is a family of its own that goes idle.
      await store.offer(request({ event: 'e', actor: `y${round}`, labels: { side } }));
      expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([[`x${round % 7}`, `y${round}`]]);
      groups.length = 0;
    }
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(Array.from({ length: 40 }, (_, i) => `ghost${i}`));
    await store.offer(request({ event: 'e', actor: 'absent7' }));
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['ghost7', 'absent7']]);
  });

  it('answers a hub caller whose class went idle and came back exactly like a new one', async () => {
    const hub = new Netsync();
    try {
      const parked = Array.from({ length: 50 }, (_, i) => hub.send({ event: 'e', actor: `ghost${i}`, selector: 'role=ghost' }, { timeoutMs: 60_000 }));
      for (const p of parked) p.catch(() => undefined);
      for (let round = 0; round < 600; round++) {
        const a = hub.send({ event: 'e', actor: `a${round % 150}`, labels: { n: String(round % 150) }, selector: 'side=b' });
        const b = hub.send({ event: 'e', actor: `b${round % 130}`, labels: { side: 'b' }, selector: `n=${round % 150}` });
        const [ma, mb] = await Promise.all([a, b]);
        expect(ma).toBe(mb);
        expect(ma.members.map((m) => m.labels)).toEqual([{ actor: `a${round % 150}`, n: String(round % 150) }, { actor: `b${round % 130}`, side: 'b' }]);
      }
      expect(hub.pendingCount).toBe(50);
    } finally {
      await hub.close();
    }
  });
});
