// The shared store contract, run against RedisStore on a private three-master Redis Cluster.
import { isNetsyncError } from '../../lib/errors';
import { RedisStore } from '../../lib/stores/redis';
import { recordsKey } from '../../lib/stores/redis/keys';
import { uniquePrefix } from '../helpers/redis';
import { clusterPerFile, describeCluster, nodeCommand } from '../helpers/redis-cluster';
import { describeStoreContract } from '../stores/suite';

describeCluster('RedisStore on Redis Cluster', () => {
  // Every step of the model test is a few round trips; on a busy machine that outlasts the default.
  jest.setTimeout(120_000);
  const fixture = clusterPerFile();

  describeStoreContract({
    name: 'RedisStore (cluster)',
    create: async () => {
      return new RedisStore({ client: await fixture.cluster().client(), prefix: uniquePrefix() });
    },
  });

  it('keeps each event on one master and spreads events over every master', async () => {
    const c = fixture.cluster();
    const prefix = uniquePrefix();
    const { hub } = await fixture.hub(prefix);
    const events = Array.from({ length: 30 }, (_, i) => `spread-${i}`);
    const waiting = events.map((event) => hub.send({ event, actor: 'w' }).catch((err: unknown) => err));
    await hub.stats();
    const held = await Promise.all(c.nodes.map(async (n) => nodeCommand(n.server.port, ['KEYS', `${prefix}*`]) as Promise<string[]>));
    // Every master holds some of them, and each event's records are on exactly one.
    expect(held.map((keys) => keys.length > 0)).toEqual([true, true, true]);
    for (const event of events) expect(held.filter((keys) => keys.includes(recordsKey(prefix, event)))).toHaveLength(1);
    await hub.close();
    // Closing answers every waiter.
    const codes = (await Promise.all(waiting)).map((outcome) => (isNetsyncError(outcome) ? outcome.code : String(outcome)));
    expect(new Set(codes)).toEqual(new Set(['shutting_down']));
  });
});
