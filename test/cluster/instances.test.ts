// Several hubs, each with its own RedisStore and cluster client, meeting through a three-master Redis Cluster.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { recordsKey } from '../../lib/stores/redis/keys';
import type { Match } from '../../lib/types';
import { modelCompatible, type ModelRequest } from '../helpers/model';
import { uniquePrefix } from '../helpers/redis';
import { clusterPerFile, describeCluster, keySlot } from '../helpers/redis-cluster';
import { type Outcome, settle } from '../helpers/outcome';
import { seeded as random } from '../helpers/random';
import { recordGroups } from '../helpers/groups';
import { sendStorm } from '../helpers/storm';

const STORM = Number(process.env.STORM ?? 600);

describeCluster('RedisStore across instances on Redis Cluster', () => {
  jest.setTimeout(120_000);
  const fixture = clusterPerFile();

  /** `n` hubs on one prefix, each with its own cluster client (as separate app instances would have). */
  async function instances(n: number): Promise<{ hubs: Netsync[]; prefix: string }> {
    const prefix = uniquePrefix();
    const hubs: Netsync[] = [];
    for (let i = 0; i < n; i++) hubs.push((await fixture.hub(prefix)).hub);
    return { hubs, prefix };
  }

  /** Events whose keys fall on each of the three masters, `perMaster` of each. */
  async function eventsOnEveryMaster(prefix: string, perMaster: number): Promise<string[]> {
    const c = fixture.cluster();
    const byOwner = new Map<string, string[]>();
    for (let i = 0; [...byOwner.values()].filter((list) => list.length >= perMaster).length < 3; i++) {
      const event = `ev-${i}`;
      const owner = (await c.ownerOf(keySlot(recordsKey(prefix, event)))).id;
      const list = byOwner.get(owner) ?? [];
      if (list.length < perMaster) list.push(event);
      byOwner.set(owner, list);
    }
    return [...byOwner.values()].flat();
  }

  it('forms groups of three across three instances on events of every master', async () => {
    const { hubs, prefix } = await instances(3);
    const events = await eventsOnEveryMaster(prefix, 2);
    const sends = events.map((event) => hubs.map((hub, i) => hub.send({ event, actor: `m${i}`, mates: 2, payload: i })));
    for (const trio of sends) {
      const matches = await Promise.all(trio);
      expect(matches[0]?.payloads).toEqual({ m0: 0, m1: 1, m2: 2 });
      for (const match of matches) expect(match).toEqual(matches[0]);
    }
    for (const hub of hubs) expect(await hub.stats()).toEqual({});
  });

  it('lists every master\'s waiters in stats, on every instance', async () => {
    const { hubs: [a, b], prefix } = await instances(2);
    const events = await eventsOnEveryMaster(prefix, 1);
    const waiting = events.map((event, i) => settle((i % 2 === 0 ? a! : b!).send({ event, actor: `w${i}` })));
    await a!.stats();
    await b!.stats();
    const tree = await a!.stats();
    expect(Object.keys(tree).sort()).toEqual([...events].sort());
    expect(await b!.stats()).toEqual(tree);
    await Promise.all([a!.close(), b!.close()]);
    expect((await Promise.all(waiting)).every((o) => !o.ok)).toBe(true);
  });

  it('keeps the rules under concurrent sends and aborts across three instances and every master', async () => {
    const { hubs, prefix } = await instances(3);
    const events = await eventsOnEveryMaster(prefix, 1);
    const groups = recordGroups(hubs);
    const { requests, outcomes, aborted } = await sendStorm(hubs, STORM, random(20261201), { events, actors: ['a', 'b', 'c'], mates: [1, 1, 2] });
    // Quiescent once every hub's offers and withdrawals reached Redis; then the hubs close.
    for (const hub of hubs) await hub.stats();
    await Promise.all(hubs.map((hub) => hub.close()));

    const inGroup = new Map<string, string>();
    for (const [key, group] of groups) {
      const members = group.members.map((m) => requests.get(m.id) as ModelRequest);
      expect(members.every((m) => m !== undefined && m.mates === members.length - 1 && m.event === group.event)).toBe(true);
      for (const x of members) for (const y of members) if (x !== y) expect(modelCompatible(x, y)).toBe(true);
      let result: Match | undefined;
      for (const { id } of group.members) {
        expect(inGroup.get(id)).toBeUndefined();
        inGroup.set(id, key);
        const outcome = await (outcomes.get(id) as Promise<Outcome>);
        if (!outcome.ok) {
          // Only a caller that left while its group was forming misses it.
          expect(aborted.has(id)).toBe(true);
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
      else expect([id, aborted.has(id) || (isNetsyncError(result.error) && result.error.code === 'shutting_down')]).toEqual([id, true]);
    }
    expect(groups.size).toBeGreaterThan(30);
  });
});
