// NetsyncClient against a real netsync server (and a scripted one for what a real server will not do on cue).
import { once } from 'node:events';
import { createServer } from 'node:net';
import { NetsyncClient, NetsyncError, isNetsyncError, type Match } from '../../lib/client';
import { serveRouter, waitForPending, type ServedRouter } from '../http/helpers';
import { json, netsyncError, scriptedServer, type ScriptedServer } from './scripted-server';
import { UnreachableStore } from '../helpers/unreachable-store';

const open: { close(): Promise<void> }[] = [];

async function netsyncServer(options: Parameters<typeof serveRouter>[0] = {}): Promise<ServedRouter & { client: NetsyncClient }> {
  const served = await serveRouter(options, '/sync');
  open.push(served);
  return Object.assign(served, { client: new NetsyncClient(`${served.url}/sync`) });
}

async function scripted(...script: Parameters<typeof scriptedServer>[0]): Promise<ScriptedServer> {
  const server = await scriptedServer(script);
  open.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/** The rejection of `promise` as a NetsyncError's code, status and retryAfter. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number; retryAfter?: number }> {
  const error = await rejection(promise);
  expect(error).toBeInstanceOf(NetsyncError);
  const { code, status, retryAfter } = error as NetsyncError;
  return retryAfter === undefined ? { code, status } : { code, status, retryAfter };
}

/** A port that nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('send', () => {
  it('resolves every member to the same Match, payloads as sent', async () => {
    const { client } = await netsyncServer();
    const [a, b] = await Promise.all([
      client.send({ event: 'e', actor: 'a', payload: { seat: 1, tags: ['x'] }, labels: { team: 'red' } }),
      client.send({ event: 'e', actor: 'b', payload: null }),
    ]);
    const expected: Match = {
      payloads: { a: { seat: 1, tags: ['x'] }, b: null },
      members: [
        { actor: 'a', payload: { seat: 1, tags: ['x'] }, labels: { actor: 'a', team: 'red' } },
        { actor: 'b', payload: null, labels: { actor: 'b' } },
      ],
    };
    expect([a, b]).toEqual([expected, expected]);
  });

  it('accepts a base URL with or without a trailing slash, and sends the host headers', async () => {
    const server = await scripted(json(200, { payloads: {}, members: [] }));
    await new NetsyncClient(server.url, { headers: { authorization: 'Bearer t0ken' } }).send({ event: 'e', actor: 'a', mates: 0 });
    await new NetsyncClient(`${server.url}/`).send({ event: 'e', actor: 'a', mates: 0 });
    expect(server.seen.map((r) => [r.method, r.url, r.headers.authorization, r.headers['content-type']])).toEqual([
      ['POST', '/sync/event', 'Bearer t0ken', 'application/json'],
      ['POST', '/sync/event', undefined, 'application/json'],
    ]);
    expect(JSON.parse(server.seen[0]?.body ?? '')).toEqual({ event: 'e', actor: 'a', mates: 0 });
  });

  it('resolves a relative base URL against the page in a browser, and refuses one where there is no page', async () => {
    const server = await scripted(json(200, { payloads: {}, members: [] }));
    expect(() => new NetsyncClient('/sync')).toThrow(/Invalid URL/);
    const origin = new URL(server.url).origin;
    // What a browser's global `location` offers; Node.js has none.
    Object.defineProperty(globalThis, 'location', { value: { href: `${origin}/lobby/index.html` }, configurable: true });
    try {
      await new NetsyncClient('/sync').send({ event: 'e', actor: 'a', mates: 0 });
    } finally {
      delete (globalThis as { location?: unknown }).location;
    }
    expect(server.seen.map((r) => r.url)).toEqual(['/sync/event']);
  });

  it('uses the fetch it is given', async () => {
    const { url } = await netsyncServer();
    const called: string[] = [];
    const client = new NetsyncClient(`${url}/sync`, {
      fetch: (input, init) => {
        called.push(`${init.method ?? ''} ${input}`);
        return fetch(input, init);
      },
    });
    await client.send({ event: 'e', actor: 'a', mates: 0 });
    expect(called).toEqual([`POST ${url}/sync/event`]);
  });

  it('sends timeout as the request field, in milliseconds, from a number or a duration', async () => {
    const server = await scripted(json(200, { payloads: {}, members: [] }));
    const client = new NetsyncClient(server.url);
    await client.send({ event: 'e', actor: 'a' }, { timeout: 1500 });
    await client.send({ event: 'e', actor: 'a' }, { timeout: '2m' });
    const sent = server.seen.map((r) => (JSON.parse(r.body) as { timeout: string }).timeout);
    expect(sent).toEqual([expect.stringMatching(/^\d+ms$/), expect.stringMatching(/^\d+ms$/)]);
    const [first, second] = sent.map((t) => Number.parseInt(t, 10)) as [number, number];
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(1500);
    expect(second).toBeGreaterThan(1500);
    expect(second).toBeLessThanOrEqual(120_000);
  });

  it('rejects a malformed timeout as bad_request without sending anything', async () => {
    const server = await scripted(json(200, {}));
    expect(await failure(new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { timeout: 'soon' }))).toEqual({ code: 'bad_request', status: 400 });
    expect(server.seen).toEqual([]);
  });
});

describe('errors, from a real server', () => {
  it('bad_request (400), with the server message', async () => {
    const { client } = await netsyncServer();
    const error = await rejection(client.send({ event: 'e', actor: '' }));
    expect(error).toMatchObject({ name: 'NetsyncError', code: 'bad_request', status: 400, message: 'actor is required' });
    expect(isNetsyncError(error)).toBe(true);
  });

  it('invalid_selector (400)', async () => {
    const { client } = await netsyncServer();
    expect(await failure(client.send({ event: 'e', actor: 'a', selector: 'a in (' }))).toEqual({ code: 'invalid_selector', status: 400 });
  });

  it('too_large (413)', async () => {
    const { client } = await netsyncServer({ limit: 200 });
    expect(await failure(client.send({ event: 'e', actor: 'a', payload: 'x'.repeat(500) }))).toEqual({ code: 'too_large', status: 413 });
  });

  it('timeout (504): the server answers once the timeout sent with the request is over', async () => {
    const { client, hub } = await netsyncServer();
    expect(await failure(client.send({ event: 'e', actor: 'alone' }, { timeout: '50ms' }))).toEqual({ code: 'timeout', status: 504 });
    expect(hub.pendingCount).toBe(0);
  });

  it('overloaded (503), with Retry-After', async () => {
    const { client, hub } = await netsyncServer({ maxPending: 1 });
    const controller = new AbortController();
    const waiting = client.send({ event: 'e', actor: 'first', selector: 'actor=nobody' }, { signal: controller.signal });
    await waitForPending(hub, 1);
    expect(await failure(client.send({ event: 'e', actor: 'second' }))).toEqual({ code: 'overloaded', status: 503, retryAfter: 1 });
    controller.abort();
    await rejection(waiting);
  });

  it('shutting_down (503)', async () => {
    const { client, hub } = await netsyncServer();
    await hub.close();
    expect(await failure(client.send({ event: 'e', actor: 'a' }))).toEqual({ code: 'shutting_down', status: 503 });
  });

  it('store_unavailable (503)', async () => {
    const { client } = await netsyncServer({ store: new UnreachableStore() });
    expect(await failure(client.send({ event: 'e', actor: 'a' }))).toEqual({ code: 'store_unavailable', status: 503 });
  });

  it('internal (500), from stats, without the internals', async () => {
    const { client } = await netsyncServer({ store: new UnreachableStore() });
    const error = await rejection(client.stats());
    expect(error).toMatchObject({ code: 'internal', status: 500, message: 'internal error' });
  });

  it('unreachable (status 0) when nothing listens, with the network error as cause', async () => {
    const client = new NetsyncClient(`http://127.0.0.1:${await closedPort()}/sync`);
    const error = await rejection(client.send({ event: 'e', actor: 'a' }));
    expect(error).toMatchObject({ code: 'unreachable', status: 0 });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect((error as Error).cause).toMatchObject({ message: 'fetch failed' });
  });

  it('unreachable when a proxy answers 502 on its own; a foreign 404 keeps its status as bad_request', async () => {
    const proxy = await scripted({ status: 502, headers: { 'content-type': 'text/html' }, body: '<h1>Bad Gateway</h1>' });
    expect(await failure(new NetsyncClient(proxy.url).send({ event: 'e', actor: 'a' }))).toEqual({ code: 'unreachable', status: 0 });
    const elsewhere = await scripted({ status: 404, headers: { 'content-type': 'text/html' }, body: 'Cannot POST' });
    const error = await rejection(new NetsyncClient(elsewhere.url).send({ event: 'e', actor: 'a' }));
    expect(error).toMatchObject({ code: 'bad_request', status: 404 });
    expect((error as Error).message).toMatch(/base URL/);
  });

  it('refuses a 200 that is not a match (or not a stats tree), keeping its status', async () => {
    const server = await scripted(json(200, { ok: true }), json(200, ['not', 'a', 'tree']), { status: 200, body: '<html>' });
    const client = new NetsyncClient(server.url);
    const error = await rejection(client.send({ event: 'e', actor: 'a' }));
    expect(error).toMatchObject({ code: 'internal', status: 200 });
    expect((error as Error).message).toMatch(/not a match/);
    expect(await failure(client.stats())).toEqual({ code: 'internal', status: 200 });
    expect(await failure(client.stats())).toEqual({ code: 'internal', status: 200 });
  });
});

describe('abort', () => {
  it('rejects with the signal reason, and the server withdraws the request', async () => {
    const { client, hub } = await netsyncServer();
    const controller = new AbortController();
    const sending = client.send({ event: 'e', actor: 'a' }, { signal: controller.signal });
    await waitForPending(hub, 1);
    expect(Object.keys(await client.stats())).toEqual(['e']);
    const withdrawn = once(hub, 'withdrawn');
    const reason = new Error('changed my mind');
    controller.abort(reason);
    expect(await rejection(sending)).toBe(reason);
    await withdrawn;
    expect(await client.stats()).toEqual({});
  });

  it('rejects with an AbortError when aborted without a reason', async () => {
    const { client, hub } = await netsyncServer();
    const controller = new AbortController();
    const sending = client.send({ event: 'e', actor: 'a' }, { signal: controller.signal });
    await waitForPending(hub, 1);
    controller.abort();
    expect(await rejection(sending)).toMatchObject({ name: 'AbortError' });
  });

  it('rejects at once for a signal aborted before the call, sending nothing', async () => {
    const server = await scripted(json(200, {}));
    const reason = new Error('too late');
    expect(await rejection(new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(server.seen).toEqual([]);
  });
});

describe('retry', () => {
  const MATCH = { payloads: { a: 1 }, members: [{ actor: 'a', payload: 1, labels: { actor: 'a' } }] };

  it('sends again after 503 store_unavailable twice, then resolves', async () => {
    const server = await scripted(netsyncError(503, 'store_unavailable'), netsyncError(503, 'store_unavailable'), json(200, MATCH));
    expect(await new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { retry: true })).toEqual(MATCH);
    expect(server.seen).toHaveLength(3);
  });

  it('sends again after a dropped connection (unreachable)', async () => {
    const server = await scripted('drop', json(200, MATCH));
    expect(await new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { retry: { initialDelayMs: 1 } })).toEqual(MATCH);
    expect(server.seen).toHaveLength(2);
  });

  it('waits out Retry-After after 503 overloaded', async () => {
    const server = await scripted(netsyncError(503, 'overloaded', { 'retry-after': '1' }), json(200, MATCH));
    const arrivals: number[] = [];
    const timing = async (count: number): Promise<void> => {
      await server.requests(count);
      arrivals.push(performance.now());
    };
    const [match] = await Promise.all([
      // A backoff this small would retry at once: only Retry-After makes the client wait.
      new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { retry: { initialDelayMs: 1, maxDelayMs: 1 } }),
      timing(1).then(() => timing(2)),
    ]);
    expect(match).toEqual(MATCH);
    const [first, second] = arrivals as [number, number];
    // A lower bound only (the timer may fire a millisecond early): later is always fine.
    expect(second - first).toBeGreaterThanOrEqual(990);
  });

  it.each([
    ['400 bad_request', netsyncError(400, 'bad_request')],
    ['400 invalid_selector', netsyncError(400, 'invalid_selector')],
    ['413 too_large', netsyncError(413, 'too_large')],
    ['504 timeout', netsyncError(504, 'timeout')],
    ['503 shutting_down', netsyncError(503, 'shutting_down')],
  ])('never retries %s', async (_case, answer) => {
    const server = await scripted(answer, json(200, MATCH));
    await rejection(new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { retry: true }));
    expect(server.seen).toHaveLength(1);
  });

  it('gives up with the last error once the timeout leaves no room, each attempt sending what is left of it', async () => {
    const server = await scripted(netsyncError(503, 'store_unavailable'));
    const sending = new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { timeout: 300, retry: { initialDelayMs: 5, maxDelayMs: 10 } });
    expect(await failure(sending)).toEqual({ code: 'store_unavailable', status: 503 });
    const sent = server.seen.map((r) => Number.parseInt((JSON.parse(r.body) as { timeout: string }).timeout, 10));
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent.every((ms, i) => ms > 0 && ms <= 300 && (i === 0 || ms <= (sent[i - 1] as number)))).toBe(true);
  });

  it('stops when the signal aborts between attempts', async () => {
    const server = await scripted(netsyncError(503, 'store_unavailable'));
    const controller = new AbortController();
    const reason = new Error('enough');
    const sending = new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }, { signal: controller.signal, retry: { initialDelayMs: 1, maxDelayMs: 2 } });
    await server.requests(2);
    controller.abort(reason);
    expect(await rejection(sending)).toBe(reason);
  });

  it('does not retry without retry: true', async () => {
    const server = await scripted(netsyncError(503, 'store_unavailable'), json(200, MATCH));
    expect(await failure(new NetsyncClient(server.url).send({ event: 'e', actor: 'a' }))).toEqual({ code: 'store_unavailable', status: 503 });
    expect(server.seen).toHaveLength(1);
  });
});

describe('stats', () => {
  it('returns the /stats tree', async () => {
    const { client, hub } = await netsyncServer();
    const controller = new AbortController();
    const waiting = client.send({ event: 'lobby', actor: 'maker', payload: 'game=1', mates: 2 }, { signal: controller.signal });
    await waitForPending(hub, 1);
    const tree = await client.stats();
    const entries = Object.values(tree.lobby?.maker ?? {});
    expect(entries).toEqual([
      {
        params: { event: 'lobby', actor: 'maker', payload: 'game=1', labels: { actor: 'maker' }, selector: 'actor != maker', mates: 2 },
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    controller.abort();
    await rejection(waiting);
  });
});
