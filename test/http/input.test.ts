// Every way an /event request can carry its fields, and every answer format.
import request from 'supertest';
import { routerPerTest, yaml } from './helpers';

const served = routerPerTest();

/** `mates=0` answers at once with the caller's own request: the decoded fields, echoed. */
function alone(body: Record<string, unknown>): { payloads: Record<string, unknown>; members: Array<{ actor: string; payload: unknown; labels: Record<string, string> }> } {
  return body as ReturnType<typeof alone>;
}

describe('input formats', () => {
  test('query string', async () => {
    const res = await request(served.url).get('/event?event=e&actor=a1&payload=p1&mates=0&labels=kind=player,level=3');
    expect(res.status).toBe(200);
    expect(alone(res.body).members).toEqual([{ actor: 'a1', payload: 'p1', labels: { actor: 'a1', kind: 'player', level: '3' } }]);
    expect(alone(res.body).payloads).toEqual({ a1: 'p1' });
  });

  test('POST with only a query string', async () => {
    const res = await request(served.url).post('/event?event=e&actor=a1&payload=p1&mates=0');
    expect(res.status).toBe(200);
    expect(alone(res.body).payloads).toEqual({ a1: 'p1' });
  });

  test('JSON body: payload echoed as any JSON value', async () => {
    const payload = { game: 123, tags: ['x', null, true], nested: { deep: 1.5 } };
    const res = await request(served.url)
      .post('/event')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ event: 'e', actor: 'a1', payload, mates: 0, labels: { kind: 'player' } }));
    expect(res.status).toBe(200);
    expect(alone(res.body).members).toEqual([{ actor: 'a1', payload, labels: { actor: 'a1', kind: 'player' } }]);
  });

  test('YAML body with ?input=yaml under a form content type (the curl -d case)', async () => {
    const res = await request(served.url)
      .post('/event?input=yaml')
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('{event: e, payload: p1, actor: actor1, mates: 0}');
    expect(res.status).toBe(200);
    expect(alone(res.body).payloads).toEqual({ actor1: 'p1' });
  });

  test.each(['application/yaml', 'application/x-yaml', 'text/yaml', 'application/yaml; charset=utf-8'])('YAML body as %s', async (type) => {
    const res = await request(served.url)
      .post('/event')
      .set('Content-Type', type)
      .send('event: e\nactor: a1\nmates: 0\npayload:\n  list: [1, two]\n  when: 2020-01-09\n');
    expect(res.status).toBe(200);
    // CORE_SCHEMA: a date stays the string it was.
    expect(alone(res.body).payloads).toEqual({ a1: { list: [1, 'two'], when: '2020-01-09' } });
  });

  test('a YAML body of only comments is no body: the query string carries the fields', async () => {
    const res = await request(served.url).post('/event?event=e&actor=a1&mates=0').set('Content-Type', 'application/yaml').send('# nothing here\n---\n');
    expect(res.status).toBe(200);
    expect(alone(res.body).payloads).toEqual({ a1: null });
    const tilde = await request(served.url).post('/event?event=e&actor=a1&mates=0').set('Content-Type', 'application/yaml').send('~');
    expect(tilde.status).toBe(400);
  });

  test('?input=json wins over a YAML content type', async () => {
    const res = await request(served.url)
      .post('/event?input=json')
      .set('Content-Type', 'application/yaml')
      .send('{"event":"e","actor":"a1","mates":0,"payload":[1]}');
    expect(res.status).toBe(200);
    expect(alone(res.body).payloads).toEqual({ a1: [1] });
  });

  test('form body: payload is a string', async () => {
    const res = await request(served.url).post('/event').type('form').send('event=e&actor=a1&payload=42&mates=0&labels=team%3Dred');
    expect(res.status).toBe(200);
    expect(alone(res.body).members).toEqual([{ actor: 'a1', payload: '42', labels: { actor: 'a1', team: 'red' } }]);
  });

  test('body fields win over query fields', async () => {
    const res = await request(served.url)
      .post('/event?event=e&actor=fromQuery&payload=q&mates=0')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ actor: 'fromBody', payload: 'b' }));
    expect(res.status).toBe(200);
    expect(alone(res.body).payloads).toEqual({ fromBody: 'b' });
  });

  test('empty body means no body fields', async () => {
    const res = await request(served.url).post('/event?event=e&actor=a1&mates=0').set('Content-Type', 'application/json').send('');
    expect(res.status).toBe(200);
    expect(alone(res.body).payloads).toEqual({ a1: null });
  });

  test('YAML scalar labels become strings', async () => {
    const res = await request(served.url)
      .post('/event?input=yaml')
      .send('{event: e, actor: a1, mates: 0, labels: {level: 3, ready: true, ratio: 1.5}}');
    expect(res.status).toBe(200);
    expect(alone(res.body).members[0]?.labels).toEqual({ actor: 'a1', level: '3', ready: 'true', ratio: '1.5' });
  });

  test('labels as a k=v string inside JSON', async () => {
    const res = await request(served.url)
      .post('/event')
      .send({ event: 'e', actor: 'a1', mates: 0, labels: 'kind=player,level=3' });
    expect(res.status).toBe(200);
    expect(alone(res.body).members[0]?.labels).toEqual({ actor: 'a1', kind: 'player', level: '3' });
  });
});

describe('output formats', () => {
  test('JSON by default', async () => {
    const res = await request(served.url).get('/event?event=e&actor=a1&payload=p&mates=0');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.text)).toEqual({ payloads: { a1: 'p' }, members: [{ actor: 'a1', payload: 'p', labels: { actor: 'a1' } }] });
  });

  test('?output=yaml for a match', async () => {
    const res = await request(served.url).get('/event?event=e&actor=a1&payload=p&mates=0&output=yaml');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(yaml(res.text)).toEqual({ payloads: { a1: 'p' }, members: [{ actor: 'a1', payload: 'p', labels: { actor: 'a1' } }] });
  });

  test('?output=yaml quotes strings a YAML reader would take for a date or a merge key', async () => {
    const payload = { when: '2020-01-09', at: '2020-01-09T20:00:44.676Z', '<<': 'x' };
    const res = await request(served.url).post('/event?output=yaml').send({ event: 'e', actor: 'a1', mates: 0, payload });
    expect(res.status).toBe(200);
    // The helper reads with js-yaml's default schema, which has dates and merge keys, like most YAML readers.
    expect(yaml(res.text)).toEqual({ payloads: { a1: payload }, members: [{ actor: 'a1', payload, labels: { actor: 'a1' } }] });
  });

  test('output in the body', async () => {
    const res = await request(served.url).post('/event?input=yaml').send('{event: e, actor: a1, mates: 0, output: yaml}');
    expect(res.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(yaml(res.text)).toMatchObject({ payloads: { a1: null } });
  });

  test('?output=yaml for an error', async () => {
    const res = await request(served.url).get('/event?actor=a1&output=yaml');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(yaml(res.text)).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('event') } });
  });

  test('errors are JSON by default', async () => {
    const res = await request(served.url).get('/event?event=e');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toEqual({ error: { code: 'bad_request', message: expect.stringContaining('actor') } });
  });

  test('answers are not cacheable', async () => {
    const res = await request(served.url).get('/event?event=e&actor=a1&mates=0');
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
