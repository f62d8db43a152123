// netsyncMetrics on two instances sharing one Redis: each process counts its own callers of a pair that spans both.
import { Registry } from 'prom-client';
import { netsyncMetrics, type NetsyncMetrics } from '../../lib/metrics';
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { describeRedis, RedisClients } from '../helpers/redis';

describeRedis('netsyncMetrics with the Redis store', () => {
  const redis = new RedisClients();
  const hubs: Netsync[] = [];
  const handles: NetsyncMetrics[] = [];
  afterEach(async () => {
    for (const handle of handles.splice(0)) handle.stop();
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  });
  afterAll(() => redis.cleanup());

  async function instance(prefix: string): Promise<{ hub: Netsync; registry: Registry }> {
    const hub = new Netsync({ store: new RedisStore({ client: await redis.client(), prefix }) });
    const registry = new Registry();
    hubs.push(hub);
    handles.push(netsyncMetrics(hub, { registry }));
    return { hub, registry };
  }

  /** The series of `registry` that the assertions read, by name and labels. */
  async function series(registry: Registry): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const metric of await registry.getMetricsAsJSON()) {
      for (const v of metric.values) {
        const name = (v as { metricName?: string }).metricName ?? metric.name;
        if (name.endsWith('_bucket')) continue;
        const labels = Object.entries(v.labels).map(([k, l]) => `${k}=${String(l)}`).join(',');
        out[labels === '' ? name : `${name}{${labels}}`] = v.value;
      }
    }
    return out;
  }

  it('counts one matched request, one time to match and one group of 2 on each instance', async () => {
    const prefix = redis.prefix();
    const a = await instance(prefix);
    const b = await instance(prefix);
    const first = a.hub.send({ event: 'e', actor: 'A' });
    // A's offer has reached Redis once its own stats() answers.
    await a.hub.stats();
    await b.hub.send({ event: 'e', actor: 'B' });
    await first;
    for (const { registry } of [a, b]) {
      expect(await series(registry)).toMatchObject({
        'netsync_requests_total{outcome=matched}': 1,
        'netsync_requests_total{outcome=unavailable}': 0,
        'netsync_time_to_match_seconds_count{stage=0}': 1,
        netsync_group_size_count: 1,
        netsync_group_size_sum: 2,
        netsync_waiting_requests: 0,
        netsync_oldest_wait_seconds: 0,
      });
    }
  });
});
