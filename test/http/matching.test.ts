// Requests meeting over real HTTP: pairs, groups of three, /stats, shared hubs, and withdrawal when a client goes away.
import { once } from 'node:events';
import http from 'node:http';
import express from 'express';
import request from 'supertest';
import { Netsync } from '../../lib/netsync';
import { netsync } from '../../lib/router';
import type { Match } from '../../lib/types';
import { routerPerTest, serve, serveRouter, waitForPending, yaml } from './helpers';

const served = routerPerTest();

function get(path: string): Promise<request.Response> {
  return request(served.url).get(path).then((res) => res);
}

test('two requests meet as a pair and receive the same answer', async () => {
  const a = get('/event?event=e&actor=actor1&payload=p1');
  await waitForPending(served.hub, 1);
  const b = get('/event?event=e&actor=actor2&payload=p2');
  const [ra, rb] = await Promise.all([a, b]);
  expect(ra.status).toBe(200);
  expect(ra.body).toEqual({
    payloads: { actor1: 'p1', actor2: 'p2' },
    members: [
      { actor: 'actor1', payload: 'p1', labels: { actor: 'actor1' } },
      { actor: 'actor2', payload: 'p2', labels: { actor: 'actor2' } },
    ],
  });
  expect(rb.text).toBe(ra.text);
});

test('a game maker and two players form a group of three', async () => {
  const maker = get('/event?event=joinGame&actor=gameMaker&payload=gameid%3D123&mates=2&labels=role=maker&selector=role%3Dplayer');
  await waitForPending(served.hub, 1);
  const p1 = get('/event?event=joinGame&actor=player1&payload=p1&mates=2&labels=role=player');
  await waitForPending(served.hub, 2);
  const p2 = get('/event?event=joinGame&actor=player2&payload=p2&mates=2&labels=role=player');
  const answers = await Promise.all([maker, p1, p2]);
  for (const res of answers) {
    expect(res.status).toBe(200);
    expect((res.body as Match).payloads).toEqual({ gameMaker: 'gameid=123', player1: 'p1', player2: 'p2' });
    expect((res.body as Match).members.map((m) => m.actor)).toEqual(['gameMaker', 'player1', 'player2']);
  }
});

test('/stats shows a waiter, then nothing once it matched', async () => {
  expect((await get('/stats')).body).toEqual({});
  const a = get('/event?event=joinGame&actor=gameMaker&payload=gameid%3D123');
  await waitForPending(served.hub, 1);
  const stats = await get('/stats');
  expect(stats.status).toBe(200);
  const byId = (stats.body as Record<string, Record<string, Record<string, unknown>>>).joinGame?.gameMaker ?? {};
  expect(Object.values(byId)).toEqual([
    {
      params: {
        event: 'joinGame', actor: 'gameMaker', payload: 'gameid=123',
        labels: { actor: 'gameMaker' }, selector: 'actor != gameMaker', mates: 1,
      },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    },
  ]);
  const yamlStats = await get('/stats?output=yaml');
  expect(yamlStats.headers['content-type']).toBe('application/yaml; charset=utf-8');
  expect(yamlStats.text).toContain('selector: actor != gameMaker');
  // created_at stays a string for readers that know YAML dates.
  expect(yaml(yamlStats.text)).toEqual(stats.body);
  await Promise.all([a, get('/event?event=joinGame&actor=player')]);
  expect((await get('/stats')).body).toEqual({});
});

test('/stats reads only output: other query fields are ignored, a bad output is refused', async () => {
  expect((await get('/stats?event=x')).status).toBe(200);
  const res = await get('/stats?output=xml');
  expect(res.status).toBe(400);
  expect((res.body as { error: { code: string } }).error.code).toBe('bad_request');
});

test('a client that goes away is withdrawn at once and never matched', async () => {
  // A waits on a real socket, then its client aborts.
  const { port } = new URL(served.url);
  const clientA = http.get({ host: '127.0.0.1', port, path: '/event?event=w&actor=A&payload=a' });
  clientA.on('error', () => undefined);
  let answeredA = false;
  clientA.on('response', () => {
    answeredA = true;
  });
  await waitForPending(served.hub, 1);
  const withdrawn = once(served.hub, 'withdrawn');
  clientA.destroy();
  const [req, reason] = (await withdrawn) as [{ params: { actor: string } }, string];
  expect({ actor: req.params.actor, reason }).toEqual({ actor: 'A', reason: 'disconnected' });

  // B must now wait: only B is pending.
  const b = get('/event?event=w&actor=B&payload=b');
  await waitForPending(served.hub, 1);
  const stats = (await get('/stats')).body as Record<string, Record<string, unknown>>;
  expect(Object.keys(stats.w ?? {})).toEqual(['B']);

  const c = get('/event?event=w&actor=C&payload=c');
  const [rb, rc] = await Promise.all([b, c]);
  expect((rb.body as Match).payloads).toEqual({ B: 'b', C: 'c' });
  expect(rc.text).toBe(rb.text);
  expect(answeredA).toBe(false);
});

test('two routers sharing one hub: a request through one meets a request through the other', async () => {
  const hub = new Netsync();
  const app = express();
  app.use('/one', netsync({ hub }));
  app.use('/two', netsync({ hub }));
  const shared = await serve(app);
  try {
    const a = request(shared.url).get('/one/event?event=e&actor=a&payload=1').then((r) => r);
    await waitForPending(hub, 1);
    const b = await request(shared.url).post('/two/event').send({ event: 'e', actor: 'b', payload: 2 });
    expect(b.body).toEqual((await a).body);
    expect((b.body as Match).payloads).toEqual({ a: '1', b: 2 });
  } finally {
    await shared.close();
    await hub.close();
  }
});

test('a router hub can be shared with the programmatic API', async () => {
  const fromCode = served.hub.send({ event: 'choc', actor: 'CUST', payload: 'Please give me a chocolate' });
  await waitForPending(served.hub, 1);
  const res = await get('/event?event=choc&actor=SHOP&payload=here');
  expect((res.body as Match).payloads).toEqual({ CUST: 'Please give me a chocolate', SHOP: 'here' });
  expect(await fromCode).toEqual(res.body);
});

test('the log option logs the hub lifecycle', async () => {
  const lines: string[] = [];
  const logged = await serveRouter({ log: { format: 'json', write: (line) => lines.push(line) } });
  try {
    const res = await request(logged.url).get('/event?event=e&actor=a&mates=0');
    expect(res.status).toBe(200);
    expect(lines.join('\n')).toContain('"match"');
  } finally {
    await logged.close();
  }
});

test('a hub of another copy of the package (same shape, other class) is driven through its public API', async () => {
  const hub = new Netsync();
  // What the router sees of a hub from the other build: the public members only.
  const foreign = {
    send: hub.send.bind(hub),
    stats: hub.stats.bind(hub),
    close: hub.close.bind(hub),
    maxMates: hub.maxMates,
    maxPending: hub.maxPending,
  } as unknown as Netsync;
  const app = express();
  app.use(netsync({ hub: foreign }));
  const other = await serve(app);
  try {
    const a = request(other.url).get('/event?event=e&actor=a&payload=1').then((r) => r);
    await waitForPending(hub, 1);
    const b = await request(other.url).get('/event?event=e&actor=b&payload=2');
    expect((b.body as Match).payloads).toEqual({ a: '1', b: '2' });
    expect((await a).text).toBe(b.text);

    // A client that goes away is withdrawn through the AbortSignal of the public API.
    const { port } = new URL(other.url);
    const client = http.get({ host: '127.0.0.1', port, path: '/event?event=w&actor=A' });
    client.on('error', () => undefined);
    await waitForPending(hub, 1);
    const withdrawn = once(hub, 'withdrawn');
    client.destroy();
    const [req, reason] = (await withdrawn) as [{ params: { actor: string } }, string];
    expect({ actor: req.params.actor, reason }).toEqual({ actor: 'A', reason: 'aborted' });
    expect(hub.pendingCount).toBe(0);
  } finally {
    await other.close();
    await hub.close();
  }
});

test('a POST without a body (Content-Length 0) reads its fields from the query', async () => {
  const a = request(served.url).post('/event?event=nb&actor=a&payload=1').then((r) => r);
  await waitForPending(served.hub, 1);
  const b = await request(served.url).post('/event?event=nb&actor=b&payload=2').set('Content-Length', '0');
  expect(b.status).toBe(200);
  expect((b.body as Match).payloads).toEqual({ a: '1', b: '2' });
  expect((await a).status).toBe(200);
});
