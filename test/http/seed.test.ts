// The Go original's HTTP tests replayed with its URL shape, and the empty-means-not-given rule in every input form.
import { once } from 'node:events';
import request from 'supertest';
import type { Netsync } from '../../lib/netsync';
import type { Match, StatsTree } from '../../lib/types';
import { routerPerTest, serveRouter, waitForPending, yaml } from './helpers';

const served = routerPerTest();

/** The fields of one request of the original's tests; unset labels and selector are sent empty, as it did. */
interface SeedParams {
  readonly event: string;
  readonly actor: string;
  readonly payload: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly selector?: string;
}

/** `/event?event=…&actor=…&payload=…&labels=…&selector=…`, every field present, each value query-escaped. */
function seedUrl(p: SeedParams): string {
  const labels = Object.entries(p.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
  const q = (value: string): string => encodeURIComponent(value);
  return `/event?event=${q(p.event)}&actor=${q(p.actor)}&payload=${q(p.payload)}&labels=${q(labels)}&selector=${q(p.selector ?? '')}`;
}

function get(path: string): Promise<request.Response> {
  return request(served.url).get(path).then((res) => res);
}

/** A request that can be withdrawn from the client side (the original's context timeout). */
interface Abortable {
  readonly status: Promise<number | 'aborted'>;
  abort(): Promise<void>;
}

function abortable(hub: Netsync, url: string, init: RequestInit = {}): Abortable {
  const controller = new AbortController();
  const status = fetch(url, { ...init, signal: controller.signal }).then(
    (res) => res.status,
    (error: unknown) => {
      if (controller.signal.aborted) return 'aborted' as const;
      throw error;
    },
  );
  return {
    status,
    abort: async () => {
      const withdrawn = once(hub, 'withdrawn');
      controller.abort();
      await withdrawn;
    },
  };
}

/**
 * Both block: the first waits without a timeout, the second arrives while it waits and gets a 504 from its
 * short `timeout`; the first is still waiting afterwards. Neither got a group.
 */
async function expectBothBlock(first: SeedParams, second: SeedParams): Promise<void> {
  const waiting = abortable(served.hub, `${served.url}${seedUrl(first)}`);
  await waitForPending(served.hub, 1);
  const late = await get(`${seedUrl(second)}&timeout=100ms`);
  expect({ status: late.status, code: (late.body as { error?: { code?: string } }).error?.code }).toEqual({ status: 504, code: 'timeout' });
  const stats = (await get('/stats')).body as StatsTree;
  expect(Object.keys(stats.e ?? {})).toEqual([first.actor]);
  expect(served.hub.pendingCount).toBe(1);
  await waiting.abort();
  expect(await waiting.status).toBe('aborted');
}

async function expectPair(first: SeedParams, second: SeedParams): Promise<Match> {
  const a = get(seedUrl(first));
  await waitForPending(served.hub, 1);
  const b = get(seedUrl(second));
  const [ra, rb] = await Promise.all([a, b]);
  expect([ra.status, rb.status]).toEqual([200, 200]);
  expect(rb.text).toBe(ra.text);
  return ra.body as Match;
}

describe("the original's HTTP tests", () => {
  test('TestHttpBasic: a pair meets and each gets both payloads by actor', async () => {
    const match = await expectPair({ event: 'e', actor: 'a1', payload: 'v1' }, { event: 'e', actor: 'a2', payload: 'v2' });
    expect(match.payloads).toEqual({ a1: 'v1', a2: 'v2' });
  });

  test('TestHttpMustBlock: the same actor twice with selector= blocks', async () => {
    await expectBothBlock({ event: 'e', actor: 'a', payload: 'v' }, { event: 'e', actor: 'a', payload: 'v' });
  });

  test('TestHttpMustBlockBecauseOfSelector: a2 with label1 != value1 refuses a1 labelled label1=value1', async () => {
    await expectBothBlock(
      { event: 'e', actor: 'a1', payload: 'v', labels: { label1: 'value1' } },
      { event: 'e', actor: 'a2', payload: 'v', selector: 'label1 != value1' },
    );
  });

  test('TestHttpMustBlockBecauseOfSelector: a2 with label1 == value1 meets a1', async () => {
    const match = await expectPair(
      { event: 'e', actor: 'a1', payload: 'v1', labels: { label1: 'value1' } },
      { event: 'e', actor: 'a2', payload: 'v2', selector: 'label1 == value1' },
    );
    expect(match.payloads).toEqual({ a1: 'v1', a2: 'v2' });
    expect(match.members.map((m) => m.labels)).toEqual([{ label1: 'value1', actor: 'a1' }, { actor: 'a2' }]);
  });

  test('selector=actor accepts anyone, even yourself', async () => {
    const match = await expectPair({ event: 'e', actor: 'a', payload: 'v1', selector: 'actor' }, { event: 'e', actor: 'a', payload: 'v2', selector: 'actor' });
    expect(match.members.map((m) => m.payload)).toEqual(['v1', 'v2']);
  });
});

describe('an empty optional field counts as not given', () => {
  /** Every optional field sent empty; `input` only where the query carries it. */
  const EMPTY = { labels: '', selector: '', mates: '', timeout: '', output: '' };

  /** What /stats shows for one waiting request sent as `init` to `path`, withdrawn afterwards. */
  async function waitingParams(path: string, init: RequestInit = {}): Promise<unknown> {
    const waiting = abortable(served.hub, `${served.url}${path}`, init);
    await waitForPending(served.hub, 1);
    const stats = (await get('/stats')).body as StatsTree;
    await waiting.abort();
    return Object.values(stats.e?.a ?? {}).map((entry) => entry.params);
  }

  const DEFAULTS = [{ event: 'e', actor: 'a', payload: '', labels: { actor: 'a' }, selector: 'actor != a', mates: 1 }];

  test.each([
    ['query', () => waitingParams(`/event?event=e&actor=a&payload=&${new URLSearchParams(EMPTY).toString()}&input=`)],
    ['form body', () => waitingParams('/event?input=', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ event: 'e', actor: 'a', payload: '', ...EMPTY }).toString(),
    })],
    ['JSON body', () => waitingParams('/event', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'e', actor: 'a', payload: '', ...EMPTY }),
    })],
    ['YAML body', () => waitingParams('/event?input=yaml', {
      method: 'POST',
      body: "{event: e, actor: a, payload: '', labels: '', selector: '', mates: '', timeout: '', output: ''}",
    })],
  ])('in a %s: the defaults, and an empty payload stays the empty string', async (_form, send) => {
    expect(await send()).toEqual(DEFAULTS);
  });

  test('programmatic API: "" selector, labels and mates are the defaults', async () => {
    const hub = served.hub;
    const controller = new AbortController();
    const sent = hub.send({ event: 'e', actor: 'a', payload: '', labels: '', selector: '', mates: '' }, { signal: controller.signal });
    sent.catch(() => undefined);
    await waitForPending(hub, 1);
    const stats = await hub.stats();
    controller.abort();
    await expect(sent).rejects.toBeDefined();
    expect(Object.values(stats.e?.a ?? {}).map((entry) => entry.params)).toEqual(DEFAULTS);
  });

  test('selector= is the default: never yourself, anyone else', async () => {
    await expectBothBlock({ event: 'e', actor: 'a', payload: '1' }, { event: 'e', actor: 'a', payload: '2' });
    const match = await expectPair({ event: 'e', actor: 'a', payload: '1' }, { event: 'e', actor: 'b', payload: '2' });
    expect(match.payloads).toEqual({ a: '1', b: '2' });
  });

  test('labels= is the actor label alone', async () => {
    const res = await get('/event?event=e&actor=a&mates=0&labels=');
    expect((res.body as Match).members[0]?.labels).toEqual({ actor: 'a' });
  });

  test('mates= is 1: a pair', async () => {
    const a = get('/event?event=e&actor=a&mates=');
    await waitForPending(served.hub, 1);
    const b = await get('/event?event=e&actor=b&mates=');
    expect(b.status).toBe(200);
    expect((b.body as Match).members.map((m) => m.actor)).toEqual(['a', 'b']);
    expect((await a).text).toBe(b.text);
  });

  test('timeout= is no timeout of its own: the router\'s maxWait applies', async () => {
    const capped = await serveRouter({ maxWait: 50 });
    try {
      const res = await request(capped.url).get('/event?event=e&actor=a&timeout=');
      expect(res.status).toBe(504);
      expect((res.body as { error: { message: string } }).error.message).toContain('50ms');
    } finally {
      await capped.close();
    }
  });

  test('input= reads the body by its Content-Type', async () => {
    const res = await request(served.url).post('/event?input=').set('Content-Type', 'application/json').send('{"event":"e","actor":"a","mates":0}');
    expect(res.status).toBe(200);
    expect((res.body as Match).payloads).toEqual({ a: null });
  });

  test('output= answers JSON, for /event and /stats', async () => {
    const res = await get('/event?event=e&actor=a&mates=0&output=');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ payloads: { a: null }, members: [{ actor: 'a', payload: null, labels: { actor: 'a' } }] });
    const stats = await get('/stats?output=');
    expect([stats.status, stats.headers['content-type']]).toEqual([200, expect.stringMatching(/^application\/json/)]);
    expect(yaml((await get('/event?event=e&actor=a&mates=0&output=yaml')).text)).toEqual(res.body);
  });

  test('payload= is the empty string, echoed', async () => {
    const res = await get('/event?event=e&actor=a&mates=0&payload=');
    expect((res.body as Match).payloads).toEqual({ a: '' });
  });

  test.each([
    ['event=', '/event?event=&actor=a', 'event is required'],
    ['actor=', '/event?event=e&actor=', 'actor is required'],
  ])('%s is still a 400', async (_case, path, message) => {
    const res = await get(path);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'bad_request', message } });
  });
});
