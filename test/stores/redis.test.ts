// The shared store contract, run against RedisStore on a real Redis (a fresh prefix and client per store).
import { RedisStore } from '../../lib/stores/redis';
import { describeRedis, RedisClients } from '../helpers/redis';
import { describeStoreContract } from './suite';

describeRedis('RedisStore', () => {
  // Every step of the model test is a few Redis round trips; on a busy machine that outlasts the default.
  jest.setTimeout(120_000);
  const redis = new RedisClients();
  afterAll(() => redis.cleanup());

  describeStoreContract({
    name: 'RedisStore',
    create: async () => new RedisStore({ client: await redis.client(), prefix: redis.prefix() }),
  });
});
