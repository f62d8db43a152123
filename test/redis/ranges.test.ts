// Mate ranges on Redis: full groups at once, linger windows kept on Redis's clock and closed by whichever
// instance asks first once they ended, withdrawals that close them, and instances that vanish meanwhile.
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { recordsKey } from '../../lib/stores/redis/keys';
import { slotGuarded } from '../../lib/stores/redis/cluster';
import { CLOSE_LUA } from '../../lib/stores/redis/lua';
import { LuaScript } from '../../lib/stores/redis/script';
import type { ScriptCall } from '../../lib/stores/redis/client';
import { crashable, describeRedis, overriding, RedisClients, type TestClient } from '../helpers/redis';
import { until } from '../helpers/until';
import { idsOf, Observed, request } from './driver';

// As the store sends it: behind the slot guard.
const CLOSE_SHA = new LuaScript(slotGuarded(CLOSE_LUA)).sha;
const BACKLOG = Number(process.env.RANGE_BACKLOG ?? 3000);

/** The event's `win` hash: spec key → deadline (server ms) of each open window. */
function windowsKey(prefix: string, event: string): string {
  return recordsKey(prefix, event).replace(/reqs$/, 'win');
}

/** `client`, counting the CLOSE scripts the store sends on it. */
function countingCloses(client: TestClient): { client: TestClient; closes: () => number } {
  let closes = 0;
  const counted = overriding(client, {
    evalSha: (sha: string, options: ScriptCall) => {
      if (sha === CLOSE_SHA) closes++;
      return client.evalSha(sha, options);
    },
  });
  return { client: counted, closes: () => closes };
}

/** `client` whose pub/sub copies never hear linger-window notices (as if each one were lost). */
function deafToWindows(client: TestClient): TestClient {
  const wrap = (copy: TestClient): TestClient => overriding(copy, {
    subscribe: (channel: string, listener: (message: string, channel: string) => void) =>
      copy.subscribe(channel, (message: string, from: string) => {
        if (!message.startsWith('{"window":')) listener(message, from);
      }),
  });
  return overriding(client, { duplicate: () => wrap(client.duplicate()) });
}

describeRedis('RedisStore mate ranges', () => {
  jest.setTimeout(60_000);
  const redis = new RedisClients();
  const stores: RedisStore[] = [];
  const hubs: Netsync[] = [];
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  afterAll(() => redis.cleanup());

  async function store(prefix: string, client?: TestClient, leaseMs?: number): Promise<RedisStore> {
    const made = new RedisStore({ client: client ?? await redis.client(), prefix, ...(leaseMs === undefined ? {} : { leaseMs }) });
    stores.push(made);
    return made;
  }

  it('forms a full group of MAX+1 at once across instances, in arrival order, without lingering', async () => {
    const prefix = redis.prefix();
    const [a, b] = [new Netsync({ store: await store(prefix) }), new Netsync({ store: await store(prefix) })];
    hubs.push(a, b);
    const base = { event: 'full', mates: '1..3', linger: '60s' } as const;
    const sends = [];
    for (const [i, hub] of [a, b, a, b].entries()) {
      sends.push(hub.send({ ...base, actor: `p${i}`, payload: i }));
      // Each offer reaches Redis before the next, so the arrival order is known.
      await hub.stats();
    }
    const matches = await Promise.all(sends);
    expect(matches[0]!.members.map((m) => m.actor)).toEqual(['p0', 'p1', 'p2', 'p3']);
    for (const match of matches) expect(match).toEqual(matches[0]);
    expect(await a.stats()).toEqual({});
  });

  it('two instances race to close a window: one group, and every member of both gets it', async () => {
    const prefix = redis.prefix();
    const countedA = countingCloses(await redis.client());
    const countedB = countingCloses(await redis.client());
    const [a, b] = [new Observed(await store(prefix, countedA.client)), new Observed(await store(prefix, countedB.client))];
    // Three windows at once, so the two instances' wake-ups race several times in one run.
    const events = ['race1', 'race2', 'race3'];
    const members = await Promise.all(events.map(async (event) => {
      const spec = { event, mates: '1..4', linger: '1s' } as const;
      const reqs = [
        request({ ...spec, actor: 'a1' }), request({ ...spec, actor: 'b1' }),
        request({ ...spec, actor: 'a2' }), request({ ...spec, actor: 'b2' }),
      ];
      // a1 waits alone; b1 makes a pair possible and opens the window (A hears of it by a notice); a2 and b2 join it.
      for (const [i, req] of reqs.entries()) await (i % 2 === 0 ? a : b).store.offer(req);
      return reqs;
    }));
    for (const reqs of members) {
      const [a1, b1, a2, b2] = reqs as [typeof reqs[0], typeof reqs[0], typeof reqs[0], typeof reqs[0]];
      const groups = await Promise.all([a.groupOf(a1.id), b.groupOf(b1.id), a.groupOf(a2.id), b.groupOf(b2.id)]);
      expect(idsOf(groups[0]!)).toEqual([a1.id, b1.id, a2.id, b2.id]);
      for (const group of groups) expect(group).toEqual(groups[0]);
    }
    // Each instance heard of each group once, and both asked Redis to close (the later ones found nothing to close).
    expect(a.groups).toHaveLength(3);
    expect(b.groups).toHaveLength(3);
    await until(() => countedA.closes() >= 3 && countedB.closes() >= 3, 'both instances to ask Redis to close each window');
    expect(await a.store.pending()).toEqual([]);
    const admin = await redis.client();
    for (const event of events) expect(await admin.exists(windowsKey(prefix, event))).toBe(0);
    // Each store reported the window to its log listeners when it opened with a member of its own.
    expect(a.windows.map((w) => w.event).sort()).toEqual(events);
    expect(b.windows.map((w) => w.event).sort()).toEqual(events);
  });

  it('an instance killed during a window: the other still closes it, for every member', async () => {
    const prefix = redis.prefix();
    const crashing = crashable(await redis.client());
    const a = new Observed(await store(prefix, crashing.client));
    const b = new Observed(await store(prefix));
    const spec = { event: 'killed', mates: '1..3', linger: '500ms' } as const;
    const b1 = request({ ...spec, actor: 'b1' });
    const a1 = request({ ...spec, actor: 'a1' });
    const b2 = request({ ...spec, actor: 'b2' });
    await b.store.offer(b1);
    // a1 opens the window: A got the deadline in its reply, B by a notice.
    await a.store.offer(a1);
    await b.store.offer(b2);
    crashing.crash();
    const [g1, g2] = await Promise.all([b.groupOf(b1.id), b.groupOf(b2.id)]);
    expect(g2).toEqual(g1);
    // A's lease has not lapsed yet, so its request still counts.
    expect(idsOf(g1)).toEqual([b1.id, a1.id, b2.id]);
    expect(b.groups).toHaveLength(1);
  });

  it('a window whose notice was lost and whose opener died is found and closed by the renewal', async () => {
    const prefix = redis.prefix();
    const crashing = crashable(await redis.client());
    // Renewals every 500 ms: B's first one after the deadline finds the window overdue, well before A's lease lapses
    // (a lapsed A would have its request purged, and with it the only possible group: the window would just close).
    const a = new Observed(await store(prefix, crashing.client, 1500));
    const b = new Observed(await store(prefix, deafToWindows(await redis.client()), 1500));
    const spec = { event: 'lost', mates: '1..3', linger: '200ms' } as const;
    const b1 = request({ ...spec, actor: 'b1' });
    const a1 = request({ ...spec, actor: 'a1' });
    await b.store.offer(b1);
    await a.store.offer(a1);
    crashing.crash();
    const group = await b.groupOf(b1.id);
    expect(idsOf(group)).toEqual([b1.id, a1.id]);
    expect(b.groups).toHaveLength(1);
    expect(b.windows).toEqual([]);
  });

  it('a CLOSE whose answer was lost: its caller\'s members learn their group by re-offering', async () => {
    const prefix = redis.prefix();
    const client = await redis.client();
    let lost = 0;
    // Redis runs the first CLOSE (the group forms), but its answer never comes back.
    const lossy = overriding(client, {
      evalSha: async (sha: string, options: ScriptCall) => {
        const answer = await client.evalSha(sha, options);
        if (sha === CLOSE_SHA && lost === 0 && Array.isArray(answer) && answer[0] === 'closed') {
          lost++;
          throw new Error('connection lost before the answer');
        }
        return answer;
      },
    });
    const a = new Observed(await store(prefix, lossy, 300));
    const spec = { event: 'unanswered', mates: '1..3', linger: '200ms' } as const;
    const a1 = request({ ...spec, actor: 'a1' });
    const a2 = request({ ...spec, actor: 'a2' });
    await a.store.offer(a1);
    await a.store.offer(a2);
    const [g1, g2] = await Promise.all([a.groupOf(a1.id), a.groupOf(a2.id)]);
    expect(lost).toBe(1);
    expect(idsOf(g1)).toEqual([a1.id, a2.id]);
    expect(g2).toEqual(g1);
    expect(a.groups).toHaveLength(1);
  });

  it('early CLOSE calls (every renewal asks) form nothing and leave the deadline as it was', async () => {
    const prefix = redis.prefix();
    const counted = countingCloses(await redis.client());
    const a = new Observed(await store(prefix, counted.client, 300));
    const admin = await redis.client();
    const key = windowsKey(prefix, 'early');
    const spec = { event: 'early', mates: '1..3', linger: '60s' } as const;
    const x = request({ ...spec, actor: 'x' });
    const y = request({ ...spec, actor: 'y' });
    await a.store.offer(x);
    await a.store.offer(y);
    const deadline = await admin.hGet(key, '1..3~60000');
    await until(() => counted.closes() >= 3, 'three renewals to ask Redis to close the window');
    expect(a.groups).toEqual([]);
    expect(await admin.hGet(key, '1..3~60000')).toBe(deadline);
    expect((await a.store.pending()).map((p) => p.id).sort()).toEqual([x.id, y.id].sort());
  });

  it('a window stays while a group is possible, closes when withdrawals leave none, and reopens with a fresh linger', async () => {
    const prefix = redis.prefix();
    const a = new Observed(await store(prefix));
    const admin = await redis.client();
    const key = windowsKey(prefix, 'fresh');
    const spec = { event: 'fresh', mates: '1..3', linger: '60s' } as const;
    const x = request({ ...spec, actor: 'x' });
    const y = request({ ...spec, actor: 'y' });
    await a.store.offer(x);
    expect(await admin.exists(key)).toBe(0);
    await a.store.offer(y);
    const first = parseInt((await admin.hGet(key, '1..3~60000')) ?? '', 10);
    expect(first).toBeGreaterThan(0);
    expect(a.windows).toEqual([expect.objectContaining({ event: 'fresh', ids: [x.id, y.id], spec: { min: 1, max: 3, lingerMs: 60_000 } })]);
    // z joins; y leaves, but x and z can still meet: the window stays, timed as before.
    const z = request({ ...spec, actor: 'z' });
    await a.store.offer(z);
    expect(await a.store.withdraw(y.id)).toBe(true);
    expect(parseInt((await admin.hGet(key, '1..3~60000')) ?? '', 10)).toBe(first);
    // z leaves too: x alone can form no group, so the window closes.
    expect(await a.store.withdraw(z.id)).toBe(true);
    expect(await admin.exists(key)).toBe(0);
    const w = request({ ...spec, actor: 'w' });
    await a.store.offer(w);
    const second = parseInt((await admin.hGet(key, '1..3~60000')) ?? '', 10);
    expect(second).toBeGreaterThan(first);
    expect(a.groups).toEqual([]);
  });

  it('at the deadline the largest group forms, earliest by arrival, and the rest open a window of their own', async () => {
    const prefix = redis.prefix();
    const [a, b] = [new Observed(await store(prefix)), new Observed(await store(prefix))];
    const spec = { event: 'largest', mates: '1..3', linger: '300ms' } as const;
    // a1 and c1 accept anyone; b1 and b2 only each other (t=b): two possible pairs, never one group of three.
    const a1 = request({ ...spec, actor: 'a1', labels: { t: 'a' } });
    const b1 = request({ ...spec, actor: 'b1', labels: { t: 'b' }, selector: 't=b' });
    const b2 = request({ ...spec, actor: 'b2', labels: { t: 'b' }, selector: 't=b' });
    const c1 = request({ ...spec, actor: 'c1', labels: { t: 'a' } });
    await a.store.offer(a1);
    await b.store.offer(b1);
    await b.store.offer(b2);
    await a.store.offer(c1);
    const first = await a.groupOf(a1.id);
    expect(idsOf(first)).toEqual([a1.id, c1.id]);
    const second = await b.groupOf(b1.id);
    expect(idsOf(second)).toEqual([b1.id, b2.id]);
    // b1 and b2 waited for a window of their own, opened when the first one closed.
    expect(b.windows.map((w) => w.ids)).toEqual([[b1.id, b2.id], [b1.id, b2.id]]);
    expect(b.windows[1]!.deadline).toBeGreaterThan(b.windows[0]!.deadline);
  });

  it(`closes a window beside ${BACKLOG} range waiters that can meet nobody, with the oldest one that fits`, async () => {
    const prefix = redis.prefix();
    const a = new Observed(await store(prefix));
    const spec = { event: 'backlog', mates: '1..3', linger: '200ms' } as const;
    const waiters = Array.from({ length: BACKLOG }, (_, i) => request({ ...spec, actor: `w${i}`, labels: { role: 'w' }, selector: 'role=m' }));
    await a.store.offer(waiters[0]!);
    for (let i = 1; i < BACKLOG; i += 200) await Promise.all(waiters.slice(i, i + 200).map((w) => a.store.offer(w)));
    expect(a.windows).toEqual([]);
    const maker = request({ ...spec, actor: 'maker', labels: { role: 'm' }, selector: 'role=w' });
    await a.store.offer(maker);
    expect(a.windows.map((w) => w.ids)).toEqual([[waiters[0]!.id, maker.id]]);
    expect(idsOf(await a.groupOf(maker.id))).toEqual([waiters[0]!.id, maker.id]);
    // The rest can meet nobody: no window is left open for them.
    const admin = await redis.client();
    await until(async () => (await admin.exists(windowsKey(prefix, 'backlog'))) === 0, 'the window to stay closed');
    expect((await a.store.pending()).length).toBe(BACKLOG - 1);
  });

  it('a range with MIN = 0 goes alone after its linger when nobody came, and with whoever came', async () => {
    const prefix = redis.prefix();
    const a = new Observed(await store(prefix));
    const b = new Observed(await store(prefix));
    const lone = request({ event: 'solo', actor: 'lone', mates: '0..2', linger: '200ms' });
    await a.store.offer(lone);
    expect(idsOf(await a.groupOf(lone.id))).toEqual([lone.id]);
    const spec = { event: 'duo', mates: '0..3', linger: '500ms' } as const;
    const first = request({ ...spec, actor: 'first' });
    const second = request({ ...spec, actor: 'second' });
    await a.store.offer(first);
    await b.store.offer(second);
    const group = await a.groupOf(first.id);
    expect(idsOf(group)).toEqual([first.id, second.id]);
    expect(await b.groupOf(second.id)).toEqual(group);
  });

  it('keeps buckets apart: an exact count and a range, or two ranges with different lingers, never meet', async () => {
    const prefix = redis.prefix();
    const a = new Observed(await store(prefix));
    const exact = request({ event: 'apart', actor: 'exact', mates: 1 });
    const ranged = request({ event: 'apart', actor: 'ranged', mates: '1..2', linger: '60s' });
    const other = request({ event: 'apart', actor: 'other', mates: '1..2', linger: '30s' });
    for (const req of [exact, ranged, other]) await a.store.offer(req);
    expect((await a.store.pending()).map((s) => s.id).sort()).toEqual([exact.id, ranged.id, other.id].sort());
    const mate = request({ event: 'apart', actor: 'mate', mates: '1..2', linger: '60s' });
    await a.store.offer(mate);
    expect(a.groups).toEqual([]);
    const exactMate = request({ event: 'apart', actor: 'exact-mate', mates: 1 });
    await a.store.offer(exactMate);
    expect(idsOf(await a.groupOf(exact.id))).toEqual([exact.id, exactMate.id]);
  });
});
