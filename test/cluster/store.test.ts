// The shared store contract, run against RedisStore on a private three-master Redis Cluster.
import { RedisStore } from '../../lib/stores/redis';
import { uniquePrefix } from '../helpers/redis';
import { PrivateCluster, describeCluster } from '../helpers/redis-cluster';
import { describeStoreContract } from '../stores/suite';

describeCluster('RedisStore on Redis Cluster', () => {
  // Every step of the model test is a few round trips; on a busy machine that outlasts the default.
  jest.setTimeout(120_000);
  let cluster: PrivateCluster | undefined;
  beforeAll(async () => {
    cluster = await PrivateCluster.start();
  }, 60_000);
  afterAll(() => cluster?.stop());

  describeStoreContract({
    name: 'RedisStore (cluster)',
    create: async () => {
      if (cluster === undefined) throw new Error('the cluster did not start');
      return new RedisStore({ client: await cluster.client(), prefix: uniquePrefix() });
    },
  });

  it('spreads the events of one prefix over every master', async () => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    // The suite above ran on many events; their keys hash to slots of all three masters.
    expect((await cluster.keyCounts()).every((n) => n > 0)).toBe(true);
  });
});
