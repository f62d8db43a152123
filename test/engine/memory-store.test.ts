// MemoryStore costs and limits: compatibility decided once per pair of classes, only selectors that may accept an arrival checked, empty classes forgotten, bounded group search.
import { normalizeParams } from '../../lib/params';
import type { Selector } from '../../lib/selector/types';
import { GROUP_SEARCH_BUDGET, MemoryStore } from '../../lib/stores/memory';
import type { Group, PendingRequest } from '../../lib/stores/types';
import type { SendParams } from '../../lib/types';

let nextId = 0;
function request(params: SendParams, counter?: { calls: number }): PendingRequest {
  const normalized = normalizeParams(params, { maxMates: 64 });
  let selector: Selector = normalized.selector;
  if (counter !== undefined) {
    const inner = selector;
    selector = {
      requirements: inner.requirements,
      toString: () => inner.toString(),
      matches: (labels) => {
        counter.calls++;
        return inner.matches(labels);
      },
    };
  }
  return { id: `r${nextId++}`, params: normalized.params, selector, classKey: normalized.classKey, spec: normalized.spec, stages: normalized.stages, createdAt: Date.now() };
}

function storeWithGroups(): { store: MemoryStore; groups: Group[] } {
  const store = new MemoryStore();
  const groups: Group[] = [];
  store.onMatch((group) => groups.push(group));
  return { store, groups };
}

describe('MemoryStore', () => {
  it('checks compatibility once per class, not once per pending request', async () => {
    const { store, groups } = storeWithGroups();
    const ghostChecks = { calls: 0 };
    const ghost = (): PendingRequest => request({ event: 'e', actor: 'ghost', selector: 'role=ghost' }, ghostChecks);
    for (let i = 0; i < 2000; i++) await store.offer(ghost());
    let before = ghostChecks.calls;
    await store.offer(ghost());
    expect(ghostChecks.calls - before).toBeLessThanOrEqual(1);
    before = ghostChecks.calls;
    for (let i = 0; i < 100; i++) await store.offer(request({ event: 'e', actor: `p${i}` }));
    expect(groups).toHaveLength(50);
    expect(ghostChecks.calls - before).toBeLessThanOrEqual(100);
    expect(await store.pending()).toHaveLength(2001);
  });

  it('checks a selector shared by many distinct actors once per arrival', async () => {
    const { store, groups } = storeWithGroups();
    const checks = { calls: 0 };
    for (let i = 0; i < 1000; i++) await store.offer(request({ event: 'e', actor: `player${i}`, selector: 'role=gm' }, checks));
    const before = checks.calls;
    await store.offer(request({ event: 'e', actor: 'late', selector: 'role=gm' }, checks));
    expect(checks.calls - before).toBeLessThanOrEqual(2);
    const gm = request({ event: 'e', actor: 'gm', labels: { role: 'gm' }, selector: '' });
    await store.offer(gm);
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['player0', 'gm']]);
  });

  it('looks only at the selectors that may accept an arrival beside 10,000 distinct selectors', async () => {
    const { store, groups } = storeWithGroups();
    const checks = { calls: 0 };
    for (let i = 0; i < 10_000; i++) await store.offer(request({ event: 'e', actor: `w${i}`, selector: `actor=absent${i}` }, checks));
    let before = checks.calls;
    await store.offer(request({ event: 'e', actor: 'stranger' }, checks));
    // At most the stranger's own selector, against its own labels: none of the 10,000 is asked.
    expect(checks.calls - before).toBeLessThanOrEqual(2);
    expect(groups).toEqual([]);
    before = checks.calls;
    await store.offer(request({ event: 'e', actor: 'absent7345' }, checks));
    expect(checks.calls - before).toBeLessThanOrEqual(6);
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['w7345', 'absent7345']]);
    expect(await store.pending()).toHaveLength(10_000);
  });

  it('finds the oldest group among 2,000 distinct set-based selectors with a few checks', async () => {
    const { store, groups } = storeWithGroups();
    const checks = { calls: 0 };
    for (let i = 0; i < 2000; i++) {
      await store.offer(request({ event: 'e', actor: `w${i}`, mates: 2, selector: `actor in (friend${i},buddy${i})` }, checks));
    }
    let before = checks.calls;
    await store.offer(request({ event: 'e', actor: 'friend42', mates: 2 }, checks));
    expect(checks.calls - before).toBeLessThanOrEqual(6);
    expect(groups).toEqual([]);
    before = checks.calls;
    await store.offer(request({ event: 'e', actor: 'buddy42', mates: 2 }, checks));
    expect(checks.calls - before).toBeLessThanOrEqual(12);
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['w42', 'friend42', 'buddy42']]);
  });

  it('looks only at the wanted actor among 10,000 sharing one selector', async () => {
    const { store, groups } = storeWithGroups();
    for (let i = 0; i < 10_000; i++) {
      await store.offer(request({ event: 'e', actor: `p${i}`, labels: { kind: 'player' }, selector: 'role=gm' }));
    }
    const checks = { calls: 0 };
    await store.offer(request({ event: 'e', actor: 'gm1', labels: { role: 'gm' }, selector: 'actor=nobody' }, checks));
    expect(checks.calls).toBeLessThanOrEqual(2);
    expect(groups).toEqual([]);
    checks.calls = 0;
    await store.offer(request({ event: 'e', actor: 'gm2', labels: { role: 'gm' }, selector: 'actor in (p6001,p9000)' }, checks));
    expect(checks.calls).toBeLessThanOrEqual(4);
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['p6001', 'gm2']]);
    expect(await store.pending()).toHaveLength(10_000);
  });

  it('forgets the selector of an emptied family, anchored or not', async () => {
    const { store } = storeWithGroups();
    await store.offer(request({ event: 'e', actor: 'keeper', selector: 'role=keeper' }));
    const anchoredChecks = { calls: 0 };
    const unanchoredChecks = { calls: 0 };
    const anchored = request({ event: 'e', actor: 'w1', selector: 'actor=friend' }, anchoredChecks);
    const unanchored = request({ event: 'e', actor: 'w2', selector: '!friendly' }, unanchoredChecks);
    await store.offer(anchored);
    await store.offer(unanchored);
    expect(await store.withdraw(anchored.id)).toBe(true);
    expect(await store.withdraw(unanchored.id)).toBe(true);
    const before = anchoredChecks.calls + unanchoredChecks.calls;
    await store.offer(request({ event: 'e', actor: 'friend', selector: '' }));
    expect(anchoredChecks.calls + unanchoredChecks.calls).toBe(before);
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(['keeper', 'friend']);
  });

  it('never matches a withdrawn class of a family that files its classes by label', async () => {
    const { store, groups } = storeWithGroups();
    const players = ['p0', 'p1', 'p2'].map((actor) => request({ event: 'e', actor, labels: { kind: 'player' }, selector: 'role=gm' }));
    for (const player of players) await store.offer(player);
    expect(await store.withdraw(players[1]?.id ?? '')).toBe(true);
    await store.offer(request({ event: 'e', actor: 'gm', labels: { role: 'gm' }, selector: 'actor in (p1,p2)' }));
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['p2', 'gm']]);
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(['p0']);
  });

  it('forgets a class once it is empty', async () => {
    const { store } = storeWithGroups();
    const checks = { calls: 0 };
    const ghosts = [0, 1, 2].map(() => request({ event: 'e', actor: 'ghost', selector: 'role=ghost' }, checks));
    for (const ghost of ghosts) await store.offer(ghost);
    for (const ghost of ghosts) expect(await store.withdraw(ghost.id)).toBe(true);
    expect(await store.withdraw(ghosts[0]?.id ?? '')).toBe(false);
    const callsAfterWithdrawal = checks.calls;
    // The newcomer accepts anyone, so only the ghosts' selector could turn it down.
    await store.offer(request({ event: 'e', actor: 'newcomer', selector: '' }));
    expect(checks.calls).toBe(callsAfterWithdrawal);
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(['newcomer']);
  });

  it('lists pending requests in arrival order and drops everything on close', async () => {
    const { store } = storeWithGroups();
    for (const actor of ['c', 'a', 'b']) await store.offer(request({ event: 'e', actor, selector: 'x' }));
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(['c', 'a', 'b']);
    await store.close();
    expect(await store.pending()).toEqual([]);
    await expect(store.offer(request({ event: 'e', actor: 'late' }))).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('reports a group to listeners before offer resolves', async () => {
    const { store, groups } = storeWithGroups();
    await store.offer(request({ event: 'e', actor: 'A' }));
    const offered = store.offer(request({ event: 'e', actor: 'B' }));
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['A', 'B']]);
    await offered;
  });

  describe('group search budget', () => {
    /**
     * `loners` requests compatible with a newcomer but not with each other, then three that form a group
     * with it: finding that group costs about loners²/2 steps.
     */
    async function scenario(loners: number): Promise<{ groups: Group[]; store: MemoryStore }> {
      const { store, groups } = storeWithGroups();
      for (let i = 0; i < loners; i++) {
        await store.offer(request({ event: 'e', actor: `c${i}`, mates: 3, selector: 'role=host' }));
      }
      for (const actor of ['x1', 'x2', 'x3']) {
        await store.offer(request({ event: 'e', actor, mates: 3, labels: { role: 'host', kind: 'x' }, selector: 'kind=x' }));
      }
      expect(groups).toEqual([]);
      await store.offer(request({ event: 'e', actor: 'n', mates: 3, labels: { role: 'host', kind: 'x' }, selector: '' }));
      return { store, groups };
    }

    it('finds the group when the search fits the budget', async () => {
      const { groups } = await scenario(20);
      expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['x1', 'x2', 'x3', 'n']]);
    });

    it('lets the newcomer wait when the search would exceed the budget', async () => {
      const loners = Math.ceil(Math.sqrt(GROUP_SEARCH_BUDGET * 2)) + 10;
      const { store, groups } = await scenario(loners);
      expect(groups).toEqual([]);
      expect((await store.pending()).map((p) => p.params.actor).slice(-4)).toEqual(['x1', 'x2', 'x3', 'n']);
    });
  });
});

describe('MemoryStore: ranges and stage changes', () => {
  /** The stage change a hub would send for `req`'s stage `stage`. */
  function change(req: PendingRequest, stage: number): { stage: number; selector: Selector; selectorText: string; classKey: string } {
    const target = req.stages[stage - 1];
    if (target === undefined) throw new Error(`no stage ${stage}`);
    return { stage, selector: target.selector, selectorText: target.selectorText, classKey: target.classKey };
  }

  it('files a request whose stage changed by its arrival, ahead of younger requests already in its new class', async () => {
    const { store, groups } = storeWithGroups();
    // Same actor, labels and (after the change) selector: one class. The older one joins it last.
    const old = request({ event: 'e', actor: 'g', payload: 'old', selector: 'nobody', widen: '1s:' });
    const young = request({ event: 'e', actor: 'g', payload: 'young' });
    const younger = request({ event: 'e', actor: 'g', payload: 'younger' });
    for (const r of [old, young, younger]) await store.offer(r);
    expect(await store.update(old.id, change(old, 1))).toBe(true);
    expect(groups).toEqual([]);
    expect((await store.pending()).map((p) => p.params.payload)).toEqual(['old', 'young', 'younger']);
    for (const actor of ['h1', 'h2', 'h3']) await store.offer(request({ event: 'e', actor }));
    expect(groups.map((g) => g.members.map((m) => m.payload))).toEqual([['old', null], ['young', null], ['younger', null]]);
    expect(groups[0]?.members[0]?.stage).toBe(1);
  });

  it('answers false for a request no longer pending and never brings it back', async () => {
    const { store, groups } = storeWithGroups();
    const x = request({ event: 'e', actor: 'x', selector: 'nobody', widen: '1s:' });
    await store.offer(x);
    expect(await store.withdraw(x.id)).toBe(true);
    expect(await store.update(x.id, change(x, 1))).toBe(false);
    await store.offer(request({ event: 'e', actor: 'y' }));
    expect(groups).toEqual([]);
    expect((await store.pending()).map((p) => p.params.actor)).toEqual(['y']);
  });

  it('ignores a stage that is not later than the current one', async () => {
    const { store } = storeWithGroups();
    const x = request({ event: 'e', actor: 'x', selector: 'nobody', widen: ['1s:a', '2s:b'] });
    await store.offer(x);
    expect(await store.update(x.id, change(x, 2))).toBe(true);
    expect(await store.update(x.id, change(x, 1))).toBe(true);
    expect((await store.pending())[0]?.stage).toBe(2);
  });

  it('checks a range arrival beside a backlog of 10,000 range requests against few of them', async () => {
    const { store, groups } = storeWithGroups();
    const checks = { calls: 0 };
    // Players waiting for their own game maker (distinct anchors): none can meet another.
    for (let i = 0; i < 10_000; i++) {
      await store.offer(request({ event: 'e', actor: `p${i}`, mates: '1..3', linger: '60s', labels: { role: 'player' }, selector: `gm=g${i}` }, checks));
    }
    const before = checks.calls;
    await store.offer(request({ event: 'e', actor: 'late', mates: '1..3', linger: '60s', labels: { role: 'player' }, selector: 'gm=g17' }, checks));
    expect(checks.calls - before).toBeLessThanOrEqual(4);
    expect(store.lingeringWindows).toBe(0);
    // The game maker g17 opens a window with p17 and late.
    await store.offer(request({ event: 'e', actor: 'g17', mates: '1..3', linger: '60s', labels: { gm: 'g17' }, selector: 'role=player' }));
    expect(store.lingeringWindows).toBe(1);
    expect(groups).toEqual([]);
    await store.close();
    expect(store.lingeringWindows).toBe(0);
  });

  it('forms a lingering group at the window end past an older backlog of 10,000 that can meet nobody, looking at few of them', async () => {
    let fire: (() => void) | undefined;
    const store = new MemoryStore({
      clock: { now: () => 0, setTimeout: (callback) => (fire = callback), clearTimeout: () => (fire = undefined) },
    });
    const groups: Group[] = [];
    store.onMatch((group) => groups.push(group));
    const checks = { calls: 0 };
    const spec = { mates: '1..3', linger: '1m' } as const;
    for (let i = 0; i < 10_000; i++) await store.offer(request({ event: 'e', actor: `ghost${i}`, selector: 'role=ghost', ...spec }, checks));
    const ghostChecks = checks.calls;
    // A full group beside them opens a window and closes it; then a pair lingers and goes when the window ends.
    for (const actor of ['f1', 'f2', 'f3', 'f4']) await store.offer(request({ event: 'e', actor, ...spec }));
    for (const actor of ['a', 'b']) await store.offer(request({ event: 'e', actor, ...spec }));
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['f1', 'f2', 'f3', 'f4']]);
    expect(store.lingeringWindows).toBe(1);
    fire?.();
    expect(groups.map((g) => g.members.map((m) => m.actor))).toEqual([['f1', 'f2', 'f3', 'f4'], ['a', 'b']]);
    expect(store.lingeringWindows).toBe(0);
    // The ghosts' selector was asked only as the arrivals' searches needed, not once per ghost per search.
    expect(checks.calls - ghostChecks).toBeLessThanOrEqual(20);
    await store.close();
  });

  it('clears its window timers on close', async () => {
    const timers = new Set<unknown>();
    const store = new MemoryStore({
      clock: {
        now: () => 0,
        setTimeout: () => {
          const timer = {};
          timers.add(timer);
          return timer;
        },
        clearTimeout: (timer) => timers.delete(timer),
      },
    });
    await store.offer(request({ event: 'a', actor: 'x', mates: '0..2' }));
    await store.offer(request({ event: 'b', actor: 'x', mates: '1..2' }));
    await store.offer(request({ event: 'b', actor: 'y', mates: '1..2' }));
    expect(timers.size).toBe(2);
    await store.close();
    expect(timers.size).toBe(0);
    expect(store.lingeringWindows).toBe(0);
  });
});
