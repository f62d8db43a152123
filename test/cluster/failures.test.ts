// Redis Cluster trouble: a slot migrating under an event, and a master killed and restarted; 503 only for requests in no group.
import { isNetsyncError } from '../../lib/errors';
import { eventsKey, recordsKey, registryKey } from '../../lib/stores/redis/keys';
import { uniquePrefix } from '../helpers/redis';
import { clusterPerFile, describeCluster, keySlot, nodeCommand, type ClusterNode } from '../helpers/redis-cluster';
import { until } from '../helpers/until';
import { type Outcome, settle } from '../helpers/outcome';

function codeOf(outcome: Outcome): string {
  if (outcome.ok) return 'matched';
  return isNetsyncError(outcome.error) ? outcome.error.code : String(outcome.error);
}

describeCluster('RedisStore on Redis Cluster under failures', () => {
  jest.setTimeout(120_000);
  const fixture = clusterPerFile();
  const hub = fixture.hub;

  /** An event on `node` (none of the store's global keys there unless allowed). */
  function eventOn(prefix: string, node: ClusterNode, owners: Map<number, string>, name: string): string {
    for (let i = 0; ; i++) if (owners.get(keySlot(recordsKey(prefix, `${name}-${i}`))) === node.id) return `${name}-${i}`;
  }

  /** Slot → owner id, for every slot. */
  async function slotOwners(): Promise<Map<number, string>> {
    const c = fixture.cluster();
    const owners = new Map<number, string>();
    const slots = await nodeCommand(c.nodes[0]!.server.port, ['CLUSTER', 'SLOTS']) as [number, number, [string, number, string]][];
    for (const [from, to, [, , id]] of slots) for (let s = from; s <= to; s++) owners.set(s, id);
    return owners;
  }

  /** Every key of `slot` on `node` with its serialized value, to compare before and after. */
  async function slotContent(node: ClusterNode, slot: number): Promise<string[]> {
    const keys = await nodeCommand(node.server.port, ['CLUSTER', 'GETKEYSINSLOT', String(slot), '10000']) as string[];
    const content = await Promise.all(keys.map(async (key) => `${key} ${String(await nodeCommand(node.server.port, ['DUMP', key]))}`));
    return content.sort();
  }

  it('refuses a request while its event\'s slot migrates, writing nothing, and serves it once the slot is stable', async () => {
    const c = fixture.cluster();
    const prefix = uniquePrefix();
    const { hub: a } = await hub(prefix);
    const owners = await slotOwners();
    const source = c.nodes[0] as ClusterNode;
    const target = c.nodes[1] as ClusterNode;
    const event = eventOn(prefix, source, owners, 'moving');
    const slot = keySlot(recordsKey(prefix, event));

    const waiter = settle(a.send({ event, actor: 'w' }));
    await a.stats();
    await nodeCommand(target.server.port, ['CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', source.id]);
    await nodeCommand(source.server.port, ['CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', target.id]);
    try {
      const before = await slotContent(source, slot);
      expect(before.length).toBeGreaterThan(0);
      expect(codeOf(await settle(a.send({ event, actor: 'n' }, { timeoutMs: 10_000 })))).toBe('store_unavailable');
      expect(await slotContent(source, slot)).toEqual(before);
      expect(await slotContent(target, slot)).toEqual([]);
    } finally {
      await nodeCommand(source.server.port, ['CLUSTER', 'SETSLOT', String(slot), 'STABLE']);
      await nodeCommand(target.server.port, ['CLUSTER', 'SETSLOT', String(slot), 'STABLE']);
    }
    const newcomer = await a.send({ event, actor: 'n' });
    expect(newcomer.members.map((m) => m.actor)).toEqual(['w', 'n']);
    expect(await waiter).toEqual({ ok: true, match: newcomer });
  });

  it('answers 503 while a master is down, keeps its waiter, and recovers once it is back', async () => {
    const c = fixture.cluster();
    const prefix = uniquePrefix();
    const { hub: a, client } = await hub(prefix);
    const owners = await slotOwners();
    // A master holding neither the instance registry nor the events index: only its own events suffer.
    const globals = new Set([registryKey(prefix), eventsKey(prefix)].map((key) => owners.get(keySlot(key))));
    const victim = c.nodes.find((n) => !globals.has(n.id)) as ClusterNode;
    const event = eventOn(prefix, victim, owners, 'down');
    const waiter = settle(a.send({ event, actor: 'w' }));
    await a.stats();

    await victim.server.stop();
    const node = await client.getNodeClientForKey(recordsKey(prefix, event));
    await until(() => !node.isReady, 'the client to notice the master is gone');
    expect(codeOf(await settle(a.send({ event, actor: 'early' })))).toBe('store_unavailable');

    // It comes back empty (no persistence): the store offers its waiter again, and the next newcomer meets it.
    await victim.server.start();
    await c.settled();
    const deadline = Date.now() + 30_000;
    let newcomer: Outcome = { ok: false, error: new Error('not sent') };
    while (!newcomer.ok && Date.now() < deadline) {
      newcomer = await settle(a.send({ event, actor: 'n' }, { timeoutMs: 10_000 }));
      // Refused only while the cluster is not yet whole again (then certainly in no group).
      if (!newcomer.ok) expect(codeOf(newcomer)).toBe('store_unavailable');
    }
    if (!newcomer.ok) throw new Error('the store did not recover');
    expect(newcomer.match.members.map((m) => m.actor).sort()).toEqual(['n', 'w']);
    expect(await waiter).toEqual(newcomer);
  });
});
