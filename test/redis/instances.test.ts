// Several hubs, each with its own RedisStore and connection, meeting through one Redis: pairs, groups, /stats, and a concurrent storm.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { SCHEMA } from '../../lib/stores/redis/keys';
import type { MatcherStore, MatchListener, LostListener, PendingRequest, PendingSnapshot } from '../../lib/stores/types';
import type { Match } from '../../lib/types';
import { modelCompatible } from '../helpers/model';
import { describeRedis, RedisClients } from '../helpers/redis';
import { seeded as random } from '../helpers/random';
import { settle } from '../helpers/outcome';
import { recordGroups } from '../helpers/groups';
import { sendStorm } from '../helpers/storm';

/** Delegates to a RedisStore and records which withdrawals found their request still pending. */
class RecordingStore implements MatcherStore {
  readonly withdrawn = new Set<string>();
  constructor(readonly inner: RedisStore) {}
  offer(req: PendingRequest): Promise<void> {
    return this.inner.offer(req);
  }
  async withdraw(id: string): Promise<boolean> {
    const ok = await this.inner.withdraw(id);
    if (ok) this.withdrawn.add(id);
    return ok;
  }
  onMatch(listener: MatchListener): void {
    this.inner.onMatch(listener);
  }
  onLost(listener: LostListener): void {
    this.inner.onLost(listener);
  }
  pending(): Promise<PendingSnapshot[]> {
    return this.inner.pending();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const STORM = Number(process.env.STORM ?? 1000);

describeRedis('RedisStore across instances', () => {
  const redis = new RedisClients();
  const open: Netsync[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((hub) => hub.close()));
  });
  afterAll(() => redis.cleanup());

  /** `n` hubs on one prefix, each with its own client (as separate app instances would have). */
  async function instances(n: number): Promise<{ hubs: Netsync[]; stores: RecordingStore[] }> {
    const prefix = redis.prefix();
    const stores = await Promise.all(
      Array.from({ length: n }, async () => new RecordingStore(new RedisStore({ client: await redis.client(), prefix }))),
    );
    const hubs = stores.map((store) => new Netsync({ store }));
    open.push(...hubs);
    return { hubs, stores };
  }

  /** Ids pending in Redis once every hub's offers and withdrawals reached it. */
  async function pendingIds(hubs: readonly Netsync[]): Promise<string[]> {
    for (const hub of hubs) await hub.stats();
    const ids: string[] = [];
    for (const byActor of Object.values(await hubs[0]!.stats())) for (const byId of Object.values(byActor)) ids.push(...Object.keys(byId));
    return ids.sort();
  }

  it('forms a pair across two instances, the same result on both', async () => {
    const { hubs, hubs: [a, b] } = await instances(2);
    const first = a!.send({ event: 'e', actor: 'A', payload: { n: 1 } });
    await a!.stats();
    expect(Object.keys((await b!.stats()).e ?? {})).toEqual(['A']);
    const second = b!.send({ event: 'e', actor: 'B', payload: 'two' });
    const [ma, mb] = await Promise.all([first, second]);
    expect(ma).toEqual({
      payloads: { A: { n: 1 }, B: 'two' },
      members: [
        { actor: 'A', payload: { n: 1 }, labels: { actor: 'A' } },
        { actor: 'B', payload: 'two', labels: { actor: 'B' } },
      ],
    });
    expect(mb).toEqual(ma);
    expect(await pendingIds(hubs)).toEqual([]);
  });

  it('forms groups of three across three instances, oldest clique first', async () => {
    const { hubs } = await instances(3);
    // Each offer reaches Redis before the next is sent (stats waits for the hub's offers), so arrival order is known.
    // (Wrapped in an object: an async function returning the send's promise would wait for the match.)
    const send = async (i: number, actor: string, team: string): Promise<{ sent: Promise<Match> }> => {
      const hub = hubs[i % 3]!;
      const sent = hub.send({ event: 'g', actor, mates: 2, labels: { team }, selector: `team!=${team}` });
      await hub.stats();
      return { sent };
    };
    const { sent: r1 } = await send(0, 'r1', 'red');
    const { sent: r2 } = await send(1, 'r2', 'red');
    const { sent: b1 } = await send(2, 'b1', 'blue');
    const { sent: b2 } = await send(0, 'b2', 'blue');
    expect((await pendingIds(hubs)).length).toBe(4);
    const { sent: g1 } = await send(1, 'g1', 'green');
    const { sent: g2 } = await send(2, 'g2', 'green');
    const first = await g1;
    expect(first.members.map((m) => m.actor)).toEqual(['r1', 'b1', 'g1']);
    expect(await r1).toEqual(first);
    expect(await b1).toEqual(first);
    const second = await g2;
    expect(second.members.map((m) => m.actor)).toEqual(['r2', 'b2', 'g2']);
    expect(await r2).toEqual(second);
    expect(await b2).toEqual(second);
    expect(await pendingIds(hubs)).toEqual([]);
  });

  it('shows every instance\'s waiters in stats, and withdrawals everywhere', async () => {
    const { hubs: [a, b] } = await instances(2);
    const controller = new AbortController();
    const x = settle(a!.send({ event: 'e1', actor: 'X' }, { signal: controller.signal }));
    const y = settle(b!.send({ event: 'e2', actor: 'Y', payload: [1] }));
    await b!.stats();
    const tree = await a!.stats();
    const again = await b!.stats();
    expect(Object.keys(tree).sort()).toEqual(['e1', 'e2']);
    expect(again).toEqual(tree);
    expect(Object.values(tree.e2?.Y ?? {})[0]?.params).toEqual({
      event: 'e2', actor: 'Y', payload: [1], labels: { actor: 'Y' }, selector: 'actor != Y', mates: 1,
    });
    controller.abort(new Error('gone'));
    expect((await x).ok).toBe(false);
    await a!.stats();
    expect(Object.keys(await b!.stats())).toEqual(['e2']);
    await b!.close();
    expect((await y).ok).toBe(false);
    expect(await a!.stats()).toEqual({});
  });

  it('keeps each event\'s keys under one hash tag (one cluster slot) and global keys outside them', async () => {
    const { hubs } = await instances(2);
    const prefix = redis.lastPrefix();
    const events = ['plain', 'with {braces} and spaces', 'ünïcödé'];
    const waiting = events.flatMap((event, i) => [
      settle(hubs[i % 2]!.send({ event, actor: 'A', mates: 2 })),
      settle(hubs[(i + 1) % 2]!.send({ event, actor: 'B', mates: 2, labels: { k: 'v' }, selector: 'k' })),
    ]);
    await pendingIds(hubs);
    const admin = await redis.client();
    const keys: string[] = [];
    for await (const page of admin.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) keys.push(...page);
    const tags = new Set<string>();
    for (const key of keys) {
      expect(key.startsWith(`${prefix}${SCHEMA}:`)).toBe(true);
      const rest = key.slice(`${prefix}${SCHEMA}:`.length);
      if (rest === 'instances' || rest === 'events') continue;
      const tag = /^\{([A-Za-z0-9_-]*)\}:/.exec(rest);
      expect([key, tag !== null]).toEqual([key, true]);
      tags.add(Buffer.from(tag![1]!, 'base64url').toString('utf8'));
    }
    expect([...tags].sort()).toEqual([...events].sort());
    await Promise.all(hubs.map((hub) => hub.close()));
    expect((await Promise.all(waiting)).every((o) => !o.ok)).toBe(true);
  });

  it('keeps the rules under 1000 concurrent sends and aborts across three instances', async () => {
    const { hubs, stores } = await instances(3);
    const groups = recordGroups(hubs);
    const { requests, outcomes } = await sendStorm(hubs, STORM, random(20261128), { events: ['s1', 's2'], actors: ['a', 'b', 'c', 'd'], mates: [1, 1, 2, 3] });
    // Quiescent: every offer and withdrawal reached Redis. What Redis no longer holds was matched or withdrawn,
    // and a matched request's result is on its way to its instance.
    const stillPending = new Set(await pendingIds(hubs));
    const withdrawn = new Set(stores.flatMap((s) => [...s.withdrawn]));
    for (const [id, outcome] of outcomes) {
      if (!stillPending.has(id) && !withdrawn.has(id)) {
        const result = await outcome;
        if (!result.ok) expect(isNetsyncError(result.error) ? result.error.code : (result.error as Error).message).toBe('aborted');
      }
    }
    await Promise.all(hubs.map((hub) => hub.close()));

    const inGroup = new Map<string, string>();
    for (const [key, group] of groups) {
      const members = group.members.map((m) => requests.get(m.id)!);
      expect(members.every((m) => m !== undefined && m.mates === members.length - 1 && m.event === group.event)).toBe(true);
      for (const a of members) for (const b of members) if (a !== b) expect(modelCompatible(a, b)).toBe(true);
      let result: Match | undefined;
      for (const { id } of group.members) {
        expect(inGroup.get(id)).toBeUndefined();
        inGroup.set(id, key);
        expect(withdrawn.has(id)).toBe(false);
        expect(stillPending.has(id)).toBe(false);
        const outcome = await outcomes.get(id)!;
        if (!outcome.ok) {
          // Only a caller that left while its group was forming misses it; the store had already matched it.
          expect((outcome.error as Error).message).toBe('aborted');
          continue;
        }
        result ??= outcome.match;
        expect(outcome.match).toEqual(result);
        expect(outcome.match.members.map((m) => m.payload)).toEqual(members.map((m) => m.n));
      }
    }
    for (const [id, outcome] of outcomes) {
      const result = await outcome;
      if (result.ok) expect(inGroup.has(id)).toBe(true);
      else if (stillPending.has(id)) expect(isNetsyncError(result.error) ? result.error.code : 'aborted').toMatch(/shutting_down|aborted/);
    }
    // Nothing formable was left waiting: no two pending pair requests could have met.
    const waitingPairs = [...stillPending].map((id) => requests.get(id)!).filter((r) => r.mates === 1);
    for (const a of waitingPairs) for (const b of waitingPairs) if (a !== b) expect([a.n, b.n, modelCompatible(a, b)]).toEqual([a.n, b.n, false]);
    expect(groups.size).toBeGreaterThan(50);
    expect(withdrawn.size).toBeGreaterThan(10);
  });
});
