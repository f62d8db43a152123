// Mate ranges (`mates=MIN..MAX`, `linger`) and widening (`widen`) over HTTP: every way to send them, their 400s, and /stats.
import { once } from 'node:events';
import request from 'supertest';
import type { Match, StatsTree } from '../../lib/types';
import { serveRouter, waitForPending, yaml, type ServedRouter } from './helpers';

const open: ServedRouter[] = [];

async function start(options: Parameters<typeof serveRouter>[0] = {}): Promise<ServedRouter> {
  const served = await serveRouter(options);
  open.push(served);
  return served;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** Sends now: a supertest request goes out only once something awaits it. */
function sent(test: request.Test): Promise<request.Response> {
  return test.then((res) => res);
}

function expectError(res: request.Response, status: number, code: string): string {
  const body = res.body as ErrorBody;
  expect({ status: res.status, code: body.error?.code }).toEqual({ status, code });
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/);
  return body.error?.message ?? '';
}

describe('mate ranges: 400 bad_request', () => {
  test.each([
    ['MIN over MAX', 'mates=3..1', /MIN <= MAX.*"3\.\.1"/],
    ['no MAX', 'mates=1..', /two integers.*"1\.\."/],
    ['no MIN', 'mates=..3', /two integers/],
    ['not numbers', 'mates=a..b', /two integers.*"a\.\.b"/],
    ['a negative MIN', 'mates=-1..2', /two integers/],
    ['MAX over maxMates', 'mates=1..65', /up to 64.*"1\.\.65"/],
    ['three dots', 'mates=1...3', /two integers/],
    ['linger with an exact count', 'mates=2&linger=5s', /linger only applies to a mates range/],
    ['linger with the default count', 'linger=5s', /linger only applies/],
    ['linger with MIN..MIN (an exact count)', 'mates=2..2&linger=1s', /linger only applies/],
    ['a linger that is no duration', 'mates=1..3&linger=soon', /linger must be a positive number/],
    ['a zero linger', 'mates=1..3&linger=0', /linger must be/],
    ['a linger in days', 'mates=1..3&linger=2d', /linger must be/],
  ])('%s', async (_case, query, message) => {
    const served = await start();
    const res = await request(served.url).get(`/event?event=e&actor=a&${query}`);
    expect(expectError(res, 400, 'bad_request')).toMatch(message);
    expect(served.hub.pendingCount).toBe(0);
  });

  test.each([
    ['{min, max} with MIN over MAX', { mates: { min: 3, max: 1 } }],
    ['{min} without max', { mates: { min: 1 } }],
    ['{min, max, linger}', { mates: { min: 1, max: 2, linger: 3 } }],
    ['fractional bounds', { mates: { min: 1.5, max: 3 } }],
    ['a linger object', { mates: '1..3', linger: { s: 5 } }],
  ])('JSON: %s', async (_case, fields) => {
    const served = await start();
    const res = await request(served.url).post('/event').send({ event: 'e', actor: 'a', ...fields });
    expectError(res, 400, 'bad_request');
  });

  it('refuses a range on maxMates', async () => {
    const served = await start({ maxMates: 3 });
    expectError(await request(served.url).get('/event?event=e&actor=a&mates=0..4'), 400, 'bad_request');
  });
});

describe('mate ranges: matching over HTTP', () => {
  it('forms a lobby of everyone who came during the window, from query, form, JSON and YAML alike', async () => {
    const served = await start();
    const answers = [sent(request(served.url).get('/event?event=lobby&actor=q&mates=1..4&linger=2s'))];
    await waitForPending(served.hub, 1);
    answers.push(sent(request(served.url).post('/event').type('form').send('event=lobby&actor=f&mates=1..4&linger=2')));
    await waitForPending(served.hub, 2);
    answers.push(sent(request(served.url).post('/event').send({ event: 'lobby', actor: 'j', mates: { min: 1, max: 4 }, linger: '2s' })));
    await waitForPending(served.hub, 3);
    answers.push(sent(request(served.url).post('/event?input=yaml').send('{event: lobby, actor: y, mates: {min: 1, max: 4}, linger: 2s}')));
    const results = await Promise.all(answers);
    for (const res of results) expect(res.status).toBe(200);
    const bodies = results.map((r) => r.body as Match);
    expect(bodies[0]?.members.map((m) => m.actor)).toEqual(['q', 'f', 'j', 'y']);
    for (const body of bodies) expect(body).toEqual(bodies[0]);
  });

  it('shows mates as MIN..MAX and the linger in /stats (JSON and YAML)', async () => {
    const served = await start();
    void request(served.url).get('/event?event=lobby&actor=a&mates=2..4&linger=1.5').then(() => undefined, () => undefined);
    await waitForPending(served.hub, 1);
    const tree = (await request(served.url).get('/stats')).body as StatsTree;
    const [entry] = Object.values(tree.lobby?.a ?? {});
    expect(entry?.params).toEqual({
      event: 'lobby', actor: 'a', payload: null, labels: { actor: 'a' }, selector: 'actor != a', mates: '2..4', linger: '1500ms',
    });
    expect(yaml((await request(served.url).get('/stats?output=yaml')).text)).toEqual(tree);
  });

  it('gives a range its default linger of 5s', async () => {
    const served = await start();
    void request(served.url).get('/event?event=lobby&actor=a&mates=1..3').then(() => undefined, () => undefined);
    await waitForPending(served.hub, 1);
    const tree = (await request(served.url).get('/stats')).body as StatsTree;
    expect(Object.values(tree.lobby?.a ?? {})[0]?.params.linger).toBe('5s');
  });
});

describe('widen: 400s', () => {
  test.each([
    ['a stage without a colon', 'widen=10s', 'bad_request', /widen stage 1 must be AFTER:SELECTOR/],
    ['a stage with a bad duration', 'widen=soon:level>1', 'bad_request', /widen stage 1: after must be/],
    ['a stage with a zero duration', 'widen=0s:', 'bad_request', /widen stage 1: after must be/],
    ['stages out of order', 'widen=30s:&widen=10s:level>1', 'bad_request', /strictly increasing.*stage 2 \(10s\).*stage 1 \(30s\)/],
    ['two stages at the same time', 'widen=10s:a&widen=10s:b', 'bad_request', /strictly increasing/],
    ['more than 8 stages', Array.from({ length: 9 }, (_, i) => `widen=${i + 1}s:`).join('&'), 'bad_request', /at most 8 stages, got 9/],
    ['a bad selector in stage 2', 'widen=10s:level>1&widen=20s:level>>2', 'invalid_selector', /"level>>2".*widen stage 2.*at 6/],
  ])('%s', async (_case, query, code, message) => {
    const served = await start();
    const res = await request(served.url).get(`/event?event=e&actor=a&${query}`);
    expect(expectError(res, 400, code)).toMatch(message);
    expect(served.hub.pendingCount).toBe(0);
  });

  test.each([
    ['an unknown stage field', { widen: [{ after: '1s', selector: '', when: 2 }] }, 'bad_request', /widen stage 1 has only after and selector/],
    ['a stage that is a number', { widen: [5] }, 'bad_request', /widen stage 1 must be/],
    ['a stage without after', { widen: [{ selector: 'a' }] }, 'bad_request', /widen stage 1: after must be/],
    ['a selector that is no string', { widen: [{ after: 1, selector: 5 }] }, 'bad_request', /widen stage 1: selector must be a string/],
    ['a bad selector', { widen: [{ after: '1s', selector: 'a in (' }] }, 'invalid_selector', /widen stage 1/],
  ])('JSON: %s', async (_case, fields, code, message) => {
    const served = await start();
    const res = await request(served.url).post('/event').send({ event: 'e', actor: 'a', ...fields });
    expect(expectError(res, 400, code)).toMatch(message);
  });

  it('refuses a widen stage in the form body repeated with a bad one', async () => {
    const served = await start();
    const res = await request(served.url).post('/event').type('form').send('event=e&actor=a&widen=1s:&widen=2s:(');
    expectError(res, 400, 'invalid_selector');
  });
});

describe('widen: matching and /stats over HTTP', () => {
  it('widens "level 5, then 3 to 7 after a stage, anyone after the next", with /stats showing the stage', async () => {
    const served = await start();
    // Listened for before the request goes out, so the stage change cannot be missed.
    const widened = once(served.hub, 'widened');
    const waiting = sent(request(served.url).get('/event?event=duel&actor=ann&labels=level=5&selector=level=5&widen=200ms:level+in+(3,4,5,6,7)&widen=30s:'));
    await waitForPending(served.hub, 1);
    let tree = (await request(served.url).get('/stats')).body as StatsTree;
    let entry = Object.values(tree.duel?.ann ?? {})[0];
    expect(entry?.stage).toBe(0);
    expect(entry?.selector).toBe('level=5');
    expect(entry?.params.widen).toEqual([{ after: '200ms', selector: 'level in (3,4,5,6,7)' }, { after: '30s', selector: 'actor != ann' }]);
    await widened;
    tree = (await request(served.url).get('/stats')).body as StatsTree;
    entry = Object.values(tree.duel?.ann ?? {})[0];
    expect(entry?.stage).toBe(1);
    expect(entry?.selector).toBe('level in (3,4,5,6,7)');
    const bob = await request(served.url).post('/event').send({ event: 'duel', actor: 'bob', labels: { level: 3 } });
    expect(bob.status).toBe(200);
    expect((bob.body as Match).members).toEqual([
      { actor: 'ann', payload: null, labels: { actor: 'ann', level: '5' }, stage: 1 },
      { actor: 'bob', payload: null, labels: { actor: 'bob', level: '3' } },
    ]);
    expect((await waiting).body).toEqual(bob.body);
  });

  it("keeps stage and selector in redacted /stats", async () => {
    const served = await start({ stats: 'redacted' });
    void request(served.url).get('/event?event=e&actor=a&payload=secret&widen=1m:level>1').then(() => undefined, () => undefined);
    await waitForPending(served.hub, 1);
    const res = await request(served.url).get('/stats');
    expect(res.text).not.toContain('secret');
    const entry = Object.values((res.body as StatsTree).e?.a ?? {})[0];
    expect({ stage: entry?.stage, selector: entry?.selector }).toEqual({ stage: 0, selector: 'actor != a' });
  });

  it('takes YAML stages with an empty selector as the default', async () => {
    const served = await start();
    void request(served.url).post('/event?input=yaml').send('{event: e, actor: a, selector: "x=1", widen: [{after: 60, selector: ""}]}')
      .then(() => undefined, () => undefined);
    await waitForPending(served.hub, 1);
    const tree = (await request(served.url).get('/stats')).body as StatsTree;
    expect(Object.values(tree.e?.a ?? {})[0]?.params.widen).toEqual([{ after: '60s', selector: 'actor != a' }]);
  });
});
