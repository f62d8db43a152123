// netsyncMetrics read from a real registry after real HTTP traffic through the router.
import { once } from 'node:events';
import http from 'node:http';
import express from 'express';
import { Counter, Registry, register as globalRegistry } from 'prom-client';
import request from 'supertest';
import { netsyncMetrics, type NetsyncMetrics, type RequestOutcome } from '../../lib/metrics';
import { Netsync } from '../../lib/netsync';
import { netsync } from '../../lib/router';
import { serveRouter, waitForPending, type ServedRouter } from '../http/helpers';
import { UnreachableStore } from '../helpers/unreachable-store';

const open: { close(): Promise<void> }[] = [];
const handles: NetsyncMetrics[] = [];

afterEach(async () => {
  for (const handle of handles.splice(0)) handle.stop();
  await Promise.all(open.splice(0).map((s) => s.close()));
});

interface Metered extends ServedRouter {
  readonly registry: Registry;
  value(name: string, labels?: Record<string, string>): Promise<number | undefined>;
  outcomes(): Promise<Record<RequestOutcome, number>>;
}

async function metered(options: Parameters<typeof serveRouter>[0] = {}): Promise<Metered> {
  const served = await serveRouter(options);
  open.push(served);
  const registry = new Registry();
  handles.push(netsyncMetrics(served.hub, { registry }));
  const value = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
    // A histogram's series (`_count`, `_sum`, `_bucket`) belong to the metric named without the suffix.
    const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(name.replace(/_(count|sum|bucket)$/, ''));
    if (metric === undefined) return undefined;
    const { values } = await metric.get();
    return values.find((v) => ((v as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
  };
  const outcomes = async (): Promise<Record<RequestOutcome, number>> => {
    const { values } = await (registry.getSingleMetric('netsync_requests_total') as NonNullable<ReturnType<Registry['getSingleMetric']>>).get();
    return Object.fromEntries(values.map((v) => [v.labels.outcome, v.value])) as Record<RequestOutcome, number>;
  };
  return Object.assign(served, { registry, value, outcomes });
}

const ZERO: Record<RequestOutcome, number> = { matched: 0, timeout: 0, cancelled: 0, disconnected: 0, rejected: 0, unavailable: 0 };

describe('netsyncMetrics', () => {
  it('counts a pair as 2 matched, with two times to match and one group of 2; the gauges go back to 0', async () => {
    const m = await metered();
    const a = request(m.url).get('/event?event=e&actor=a&payload=1').then((r) => r);
    await waitForPending(m.hub, 1);
    expect(await m.value('netsync_waiting_requests')).toBe(1);
    expect(await m.value('netsync_oldest_wait_seconds')).toBeGreaterThanOrEqual(0);
    const b = await request(m.url).get('/event?event=e&actor=b&payload=2');
    expect([(await a).status, b.status]).toEqual([200, 200]);

    expect(await m.outcomes()).toEqual({ ...ZERO, matched: 2 });
    expect(await m.value('netsync_time_to_match_seconds_count', { stage: '0' })).toBe(2);
    expect(await m.value('netsync_time_to_match_seconds_sum')).toBeGreaterThanOrEqual(0);
    expect(await m.value('netsync_group_size_count')).toBe(1);
    expect(await m.value('netsync_group_size_sum')).toBe(2);
    expect(await m.value('netsync_group_size_bucket', { le: '1' })).toBe(0);
    expect(await m.value('netsync_group_size_bucket', { le: '2' })).toBe(1);
    expect(await m.value('netsync_waiting_requests')).toBe(0);
    expect(await m.value('netsync_oldest_wait_seconds')).toBe(0);
  });

  it('labels each time to match with the stage its request matched at', async () => {
    const m = await metered();
    // a accepts only level 9 at first and anyone after its first stage; b (level 5) waits for it to widen.
    const a = m.hub.send({ event: 'e', actor: 'a', selector: 'level=9', widen: [{ after: '30ms', selector: '' }] });
    const b = m.hub.send({ event: 'e', actor: 'b', labels: { level: 5 } });
    const [matchA] = await Promise.all([a, b]);
    expect(matchA.members.map((member) => [member.actor, member.stage])).toEqual([['a', 1], ['b', undefined]]);
    expect(await m.value('netsync_time_to_match_seconds_count', { stage: '1' })).toBe(1);
    expect(await m.value('netsync_time_to_match_seconds_count', { stage: '0' })).toBe(1);
  });

  it('shows how long the oldest request has waited', async () => {
    const m = await metered();
    const controller = new AbortController();
    const waiting = m.hub.send({ event: 'e', actor: 'a' }, { signal: controller.signal }).catch(() => undefined);
    await waitForPending(m.hub, 1);
    const createdAt = Date.parse(Object.values((await m.hub.stats()).e?.a ?? {})[0]?.created_at ?? '');
    const before = Date.now();
    const oldest = (await m.value('netsync_oldest_wait_seconds')) as number;
    expect(oldest * 1000).toBeGreaterThanOrEqual(before - createdAt);
    controller.abort();
    await waiting;
    expect(await m.value('netsync_oldest_wait_seconds')).toBe(0);
  });

  it('counts a timeout as timeout', async () => {
    const m = await metered();
    expect((await request(m.url).get('/event?event=e&actor=a&timeout=50ms')).status).toBe(504);
    expect(await m.outcomes()).toEqual({ ...ZERO, timeout: 1 });
    expect(await m.value('netsync_waiting_requests')).toBe(0);
  });

  it('counts a closed connection as disconnected, and a programmatic abort as cancelled', async () => {
    const m = await metered();
    const { port } = new URL(m.url);
    const client = http.get({ host: '127.0.0.1', port, path: '/event?event=e&actor=a' });
    client.on('error', () => undefined);
    await waitForPending(m.hub, 1);
    const withdrawn = once(m.hub, 'withdrawn');
    client.destroy();
    await withdrawn;

    const controller = new AbortController();
    const sending = m.hub.send({ event: 'e', actor: 'b' }, { signal: controller.signal }).catch(() => undefined);
    await waitForPending(m.hub, 1);
    controller.abort();
    await sending;

    expect(await m.outcomes()).toEqual({ ...ZERO, disconnected: 1, cancelled: 1 });
    expect(await m.value('netsync_waiting_requests')).toBe(0);
    expect(await m.value('netsync_oldest_wait_seconds')).toBe(0);
  });

  it('counts 4xx refusals as rejected: bad params, an unreadable body, a body over the limit', async () => {
    const m = await metered({ limit: 100 });
    expect((await request(m.url).get('/event?event=e')).status).toBe(400);
    expect((await request(m.url).post('/event').set('content-type', 'application/json').send('{nope')).status).toBe(400);
    expect((await request(m.url).post('/event').set('content-type', 'application/json').send({ event: 'e', actor: 'a', payload: 'x'.repeat(200) })).status).toBe(413);
    expect((await request(m.url).get('/event?event=e&actor=a&selector=a%20in%20(')).status).toBe(400);
    expect(await m.outcomes()).toEqual({ ...ZERO, rejected: 4 });
  });

  it('counts 503s as unavailable: overloaded, a store that cannot be reached, shutting down', async () => {
    const m = await metered({ maxPending: 1 });
    const controller = new AbortController();
    const parked = m.hub.send({ event: 'e', actor: 'a', selector: 'actor=nobody' }, { signal: controller.signal }).catch(() => undefined);
    await waitForPending(m.hub, 1);
    expect((await request(m.url).get('/event?event=e&actor=b')).status).toBe(503);
    controller.abort();
    await parked;

    const down = await metered({ store: new UnreachableStore() });
    expect((await request(down.url).get('/event?event=e&actor=a')).status).toBe(503);
    await down.hub.close();
    expect((await request(down.url).get('/event?event=e&actor=a')).status).toBe(503);

    expect(await m.outcomes()).toEqual({ ...ZERO, cancelled: 1, unavailable: 1 });
    expect(await down.outcomes()).toEqual({ ...ZERO, unavailable: 2 });
  });

  it('puts no event, actor, selector, label or payload in any label', async () => {
    const m = await metered();
    const secret = 'zq7secret';
    const a = request(m.url).get(`/event?event=${secret}e&actor=${secret}a&payload=${secret}p&labels=k=${secret}l&selector=k%3D${secret}l`).then((r) => r);
    await waitForPending(m.hub, 1);
    await request(m.url).get(`/event?event=${secret}e&actor=${secret}b&labels=k=${secret}l&selector=k%3D${secret}l`);
    await a;
    await request(m.url).get(`/event?event=${secret}e&actor=${secret}c&timeout=10ms`);
    const text = await m.registry.metrics();
    expect(text).toMatch(/netsync_requests_total\{outcome="matched"\} 2/);
    expect(text).not.toContain(secret);
  });

  it('stop() removes its listeners and its metrics, so they can be registered again', async () => {
    const hub = new Netsync();
    open.push({ close: () => hub.close() });
    const registry = new Registry();
    const before = ['pending', 'match', 'withdrawn', 'rejected'].map((e) => hub.listenerCount(e as 'pending'));
    const handle = netsyncMetrics(hub, { registry, prefix: 'app_' });
    expect(registry.getSingleMetric('app_netsync_waiting_requests')).toBeDefined();
    handle.stop();
    handle.stop();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    expect(['pending', 'match', 'withdrawn', 'rejected'].map((e) => hub.listenerCount(e as 'pending'))).toEqual(before);
    handles.push(netsyncMetrics(hub, { registry, prefix: 'app_' }));
    await hub.send({ event: 'e', actor: 'a', mates: 0 });
    expect((await registry.getSingleMetric('app_netsync_requests_total')?.get())?.values.find((v) => v.labels.outcome === 'matched')?.value).toBe(1);
  });

  it('refuses a prefix that would make invalid metric names', () => {
    const hub = new Netsync();
    open.push({ close: () => hub.close() });
    for (const prefix of ['9x_', 'app-', 'a b']) expect(() => netsyncMetrics(hub, { registry: new Registry(), prefix })).toThrow(/prefix/);
    expect(hub.listenerCount('pending')).toBe(0);
  });

  it('registers on the global registry by default', async () => {
    const hub = new Netsync();
    open.push({ close: () => hub.close() });
    const handle = netsyncMetrics(hub);
    try {
      expect(globalRegistry.getSingleMetric('netsync_group_size')).toBeDefined();
    } finally {
      handle.stop();
    }
    expect(globalRegistry.getSingleMetric('netsync_group_size')).toBeUndefined();
  });
});

describe('the hub events the metrics rely on', () => {
  it('emits rejected for a send that cannot wait, but not for a signal aborted before the call', async () => {
    const hub = new Netsync({ maxPending: 1 });
    open.push({ close: () => hub.close() });
    const rejected: string[] = [];
    hub.on('rejected', (error) => rejected.push((error as { code?: string }).code ?? 'other'));
    await hub.send({ event: 'e', actor: '' }).catch(() => undefined);
    await hub.send({ event: 'e', actor: 'a' }, { signal: AbortSignal.abort() }).catch(() => undefined);
    const controller = new AbortController();
    const parked = hub.send({ event: 'e', actor: 'a' }, { signal: controller.signal }).catch(() => undefined);
    await hub.send({ event: 'e', actor: 'a' }).catch(() => undefined);
    controller.abort();
    await parked;
    expect(rejected).toEqual(['bad_request', 'overloaded']);
  });
});

describe('a host app exposing netsync metrics beside its own (as the README shows)', () => {
  it('serves both from the global registry at its /metrics', async () => {
    const app = express();
    const sync = netsync();
    app.use('/sync', sync);
    const orders = new Counter({ name: 'shop_orders_total', help: 'Orders placed.' });
    const metrics = netsyncMetrics(sync.hub);
    app.post('/orders', (_req, res) => {
      orders.inc();
      res.status(201).end();
    });
    app.get('/metrics', async (_req, res) => {
      res.type(globalRegistry.contentType).send(await globalRegistry.metrics());
    });
    try {
      await request(app).post('/orders').expect(201);
      await request(app).get('/sync/event?event=e&actor=a&mates=0').expect(200);
      const res = await request(app).get('/metrics').expect(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^shop_orders_total 1$/m);
      expect(res.text).toMatch(/^netsync_requests_total\{outcome="matched"\} 1$/m);
      expect(res.text).toMatch(/^netsync_group_size_count 1$/m);
    } finally {
      metrics.stop();
      globalRegistry.removeSingleMetric('shop_orders_total');
      await sync.hub.close();
    }
  });
});
