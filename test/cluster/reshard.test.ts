// A busy event's slot moved to another master (redis-cli --cluster reshard) while its waiters wait: no split, no lost waiter.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { recordsKey } from '../../lib/stores/redis/keys';
import type { Match, SendParams } from '../../lib/types';
import { uniquePrefix } from '../helpers/redis';
import { clusterPerFile, describeCluster, keySlot, nodeCommand, type ClusterNode, type PrivateCluster } from '../helpers/redis-cluster';
import { settle } from '../helpers/outcome';

const WAITERS = 30;
/** Pairs forming at once in the event while its slot moves. */
const CHURN = 4;

function isUnavailable(error: unknown): boolean {
  return isNetsyncError(error) && error.code === 'store_unavailable';
}

describeCluster('RedisStore on Redis Cluster while a slot moves', () => {
  jest.setTimeout(120_000);
  const fixture = clusterPerFile();

  /** An event whose keys live in the lowest slot of a master (the slot reshard moves first), and that master. */
  async function eventAtLowestSlot(c: PrivateCluster, prefix: string): Promise<{ event: string; slot: number; source: ClusterNode }> {
    const lowest = new Map([...(await c.lowestSlots())].map(([id, slot]) => [slot, id]));
    for (let i = 0; ; i++) {
      const event = `busy-${i}`;
      const slot = keySlot(recordsKey(prefix, event));
      const id = lowest.get(slot);
      if (id !== undefined) return { event, slot, source: c.nodes.find((n) => n.id === id) as ClusterNode };
    }
  }

  it('keeps every waiter and forms only whole groups across the move', async () => {
    const c = fixture.cluster();
    const prefix = uniquePrefix();
    const { hub: a } = await fixture.hub(prefix);
    const { hub: b } = await fixture.hub(prefix);
    const { event, slot, source } = await eventAtLowestSlot(c, prefix);
    const target = c.nodes.find((n) => n !== source) as ClusterNode;

    const refused: string[] = [];
    const groups: Match[] = [];
    /** Send until the store takes the request (a 503 only for a request certainly in no group), then its match. */
    const arrive = async (hub: Netsync, params: Omit<SendParams, 'event' | 'actor'>, actor: string): Promise<Match> => {
      for (let attempt = 0; ; attempt++) {
        const name = `${actor}.${attempt}`;
        const outcome = await settle(hub.send({ ...params, event, actor: name }, { timeoutMs: 60_000 }));
        if (outcome.ok) {
          groups.push(outcome.match);
          return outcome.match;
        }
        if (!isUnavailable(outcome.error)) throw outcome.error;
        refused.push(name);
      }
    };

    // Waiters on both instances, all pending in the event's slot on its first master.
    const waiting = Array.from({ length: WAITERS }, (_, i) => settle(
      (i % 2 === 0 ? a : b).send({ event, actor: `w${i}`, labels: { role: 'w' }, selector: 'role=n' }, { timeoutMs: 60_000 }),
    ));
    for (const hub of [a, b]) await hub.stats();
    expect(Object.keys((await a.stats())[event] ?? {})).toHaveLength(WAITERS);
    expect(await nodeCommand(source.server.port, ['EXISTS', recordsKey(prefix, event)])).toBe(1);

    // Pairs keep forming in the same event while redis-cli moves its slot, batch by batch of keys.
    let moving = true;
    const moved = c.reshard(source, target, 1).finally(() => {
      moving = false;
    });
    let pairs = 0;
    const churn = async (): Promise<void> => {
      while (moving) {
        const k = pairs++;
        const labelled = (side: string, other: string) => ({ labels: { pair: String(k), side }, selector: `pair=${k},side=${other}` });
        await Promise.all([arrive(a, labelled('x', 'y'), `x${k}`), arrive(b, labelled('y', 'x'), `y${k}`)]);
      }
    };
    await Promise.all(Array.from({ length: CHURN }, churn));
    await moved;
    expect((await c.ownerOf(slot)).id).toBe(target.id);
    // The waiters' records moved with the slot.
    expect(await nodeCommand(target.server.port, ['EXISTS', recordsKey(prefix, event)])).toBe(1);
    expect(pairs).toBeGreaterThan(0);

    // Newcomers on the new master take every waiter, each exactly once.
    const newcomers = await Promise.all(Array.from({ length: WAITERS }, (_, i) => arrive(i % 2 === 0 ? b : a, { labels: { role: 'n' }, selector: 'role=w' }, `n${i}`)));
    const outcomes = await Promise.all(waiting);
    for (const outcome of outcomes) expect(outcome.ok).toBe(true);
    const partnerOf = new Map<string, string>();
    for (const match of newcomers) {
      const [w, n] = match.members.map((m) => m.actor);
      expect(w).toMatch(/^w\d+$/);
      expect(partnerOf.has(w as string)).toBe(false);
      partnerOf.set(w as string, n as string);
    }
    expect(partnerOf.size).toBe(WAITERS);
    // Each waiter got the very group its newcomer got.
    outcomes.forEach((outcome, i) => {
      if (!outcome.ok) return;
      expect(outcome.match.members.map((m) => m.actor)).toEqual([`w${i}`, partnerOf.get(`w${i}`)]);
    });
    // Whole groups only: churn pairs are x/y of one pair; nobody refused is in any group; nobody is in two.
    const groupOf = new Map<string, string>();
    for (const match of groups) {
      const actors = match.members.map((m) => m.actor);
      expect(actors).toHaveLength(2);
      const signature = actors.join(' ');
      for (const actor of actors) {
        expect(refused).not.toContain(actor);
        expect(groupOf.get(actor) ?? signature).toBe(signature);
        groupOf.set(actor, signature);
      }
      const [first, second] = actors as [string, string];
      if (/^[xy]/.test(first)) expect(first.slice(1).split('.')[0]).toBe(second.slice(1).split('.')[0]);
    }
    for (const hub of [a, b]) await hub.stats();
    expect(await a.stats()).toEqual({});
    // Nothing half-written survives: the event's slot holds only results and tombstones.
    const left = await nodeCommand(target.server.port, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '10000']) as string[];
    expect(left.filter((key) => !key.includes('}:res:'))).toEqual([]);
  });
});
