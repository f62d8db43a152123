// openapi.yaml: valid OpenAPI 3.1, and the real answers of a served router match the schemas it documents.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileErrors, dereference, validate } from '@readme/openapi-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { load } from 'js-yaml';
import request from 'supertest';
import { ERROR_STATUS } from '../../lib/errors';
import { serveRouter, waitForPending, type ServedRouter } from '../http/helpers';
import { UnreachableStore } from '../helpers/unreachable-store';

const SOURCE = readFileSync(join(__dirname, '..', '..', 'openapi.yaml'), 'utf8');
const parsed = (): Record<string, unknown> => load(SOURCE) as Record<string, unknown>;

type Method = 'get' | 'post';
interface MediaType { schema: object }
interface ResponseObject { content?: Record<string, MediaType>; headers?: Record<string, { schema: object; required?: boolean }> }
interface Operation { responses: Record<string, ResponseObject>; requestBody?: { content: Record<string, MediaType> } }
interface Document { paths: Record<string, Partial<Record<Method, Operation>>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } }

let doc: Document;
// Union types (`type: [string, number, boolean]`) are plain JSON Schema; Ajv's strict mode only frowns on them.
const ajv = new Ajv2020({ allErrors: true, allowUnionTypes: true });
addFormats(ajv);

beforeAll(async () => {
  // Every $ref inlined, so each schema compiles on its own.
  doc = (await dereference(parsed() as never)) as unknown as Document;
});

const open: ServedRouter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function start(options: Parameters<typeof serveRouter>[0] = {}): Promise<ServedRouter> {
  const served = await serveRouter(options);
  open.push(served);
  return served;
}

/**
 * Check one real answer against the document: its status is documented for the operation, its media type
 * is one the response lists, its body (parsed as JSON or YAML) validates, and documented headers are sent.
 */
function conforms(path: string, method: Method, res: request.Response): void {
  const operation = doc.paths[path]?.[method];
  expect(operation).toBeDefined();
  const response = operation?.responses[String(res.status)];
  if (response === undefined) throw new Error(`${method.toUpperCase()} ${path} answered ${res.status}, which openapi.yaml does not document`);
  const mediaType = String(res.headers['content-type']).split(';', 1)[0] ?? '';
  const media = response.content?.[mediaType];
  if (media === undefined) throw new Error(`${res.status} answered ${mediaType}, which openapi.yaml does not list`);
  const body = mediaType === 'application/yaml' ? load(res.text) : JSON.parse(res.text);
  const check = ajv.compile(media.schema);
  if (!check(body)) throw new Error(`${method.toUpperCase()} ${path} ${res.status}: ${ajv.errorsText(check.errors)}\n${res.text}`);
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = res.headers[name.toLowerCase()] as string | undefined;
    if (value === undefined) {
      expect({ header: name, required: header.required ?? false }).toEqual({ header: name, required: false });
      continue;
    }
    const checkHeader = ajv.compile(header.schema);
    expect({ header: name, value, valid: checkHeader(value) }).toEqual({ header: name, value, valid: true });
  }
}

/** The request body schema openapi.yaml gives for `type`. */
function requestSchema(type: string): object {
  const schema = doc.paths['/event']?.post?.requestBody?.content[type]?.schema;
  if (schema === undefined) throw new Error(`no request body schema for ${type}`);
  return schema;
}

describe('openapi.yaml', () => {
  it('is valid OpenAPI 3.1 (and the validator does catch a broken copy)', async () => {
    const result = await validate(parsed() as never);
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
    expect((parsed() as { openapi: string }).openapi).toMatch(/^3\.1\./);
    const broken = parsed() as { paths: { '/event': { get: { responses: Record<string, unknown> } } } };
    broken.paths['/event'].get.responses['200'] = { content: {} };
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('names every error code the router answers with, and documents its status on /event', () => {
    const codes = (doc.components.schemas.Error as { properties: { error: { properties: { code: { enum: string[] } } } } }).properties.error.properties.code.enum;
    expect([...codes].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    const documented = Object.keys(doc.paths['/event']?.post?.responses ?? {});
    for (const status of new Set(Object.values(ERROR_STATUS))) expect(documented).toContain(String(status));
  });

  it('describes every field the router reads, and the bodies the tests send validate against it', () => {
    const fields = Object.keys(doc.components.schemas.EventBody?.properties ?? {}).sort();
    expect(fields).toEqual(['actor', 'event', 'labels', 'linger', 'mates', 'output', 'payload', 'selector', 'timeout', 'widen']);
    const json = ajv.compile(requestSchema('application/json'));
    expect(json({ event: 'e', actor: 'a', payload: { any: ['json'] }, mates: 2, labels: { level: 3, pro: true }, selector: 'level>2', timeout: '30s' })).toBe(true);
    expect(json({ event: 'e', actor: 'a', mate: 2 })).toBe(false);
    const form = ajv.compile(requestSchema('application/x-www-form-urlencoded'));
    expect(form({ event: 'e', actor: 'a', payload: 'p', mates: '1', labels: 'k=v', timeout: '1.5' })).toBe(true);
    expect(json({ event: 'e', actor: 'a', mates: { min: 1, max: 3 }, linger: '200ms', widen: [{ after: '10s', selector: 'level>1' }, { after: 30, selector: '' }] })).toBe(true);
    expect(json({ event: 'e', actor: 'a', mates: '1..3', linger: 2, widen: ['10s:level>1'] })).toBe(true);
    expect(json({ event: 'e', actor: 'a', mates: { min: 1 } })).toBe(false);
    expect(form({ event: 'e', actor: 'a', mates: '1..3', linger: '1s', widen: ['10s:level>1', '30s:'] })).toBe(true);
  });
});

describe('real answers match openapi.yaml', () => {
  it('a match: GET, POST JSON, POST YAML and POST form, answered in JSON and YAML', async () => {
    const { url, hub } = await start();
    const a = request(url).get('/event?event=e&actor=a&payload=1&labels=kind=x').then((r) => r);
    await waitForPending(hub, 1);
    const b = await request(url).post('/event?output=yaml').set('content-type', 'application/json').send({ event: 'e', actor: 'b', payload: { n: [1, 2] } });
    conforms('/event', 'get', await a);
    conforms('/event', 'post', b);
    expect(b.headers['content-type']).toMatch(/^application\/yaml/);

    const c = request(url).post('/event').set('content-type', 'application/yaml').send('{event: f, actor: c, mates: 2}').then((r) => r);
    const d = request(url).post('/event').type('form').send('event=f&actor=d&mates=2').then((r) => r);
    await waitForPending(hub, 2);
    const e = await request(url).post('/event?input=yaml').type('form').send('{event: f, actor: e, mates: 2}');
    for (const res of [await c, await d, e]) {
      expect(res.status).toBe(200);
      conforms('/event', 'post', res);
    }
  });

  it.each([
    ['bad_request', 400, '/event?event=e'],
    ['bad_request (YAML output)', 400, '/event?event=e&output=yaml'],
    ['invalid_selector', 400, '/event?event=e&actor=a&selector=a%20in%20('],
    ['timeout', 504, '/event?event=e&actor=a&timeout=50ms'],
  ])('%s', async (_case, status, path) => {
    const { url } = await start();
    const res = await request(url).get(path);
    expect(res.status).toBe(status);
    conforms('/event', 'get', res);
  });

  it('too_large', async () => {
    const { url } = await start({ limit: 100 });
    const res = await request(url).post('/event').set('content-type', 'application/json').send({ event: 'e', actor: 'a', payload: 'x'.repeat(200) });
    expect(res.status).toBe(413);
    conforms('/event', 'post', res);
  });

  it('overloaded, with Retry-After', async () => {
    const { url, hub } = await start({ maxPending: 1 });
    const controller = new AbortController();
    const parked = hub.send({ event: 'e', actor: 'a', selector: 'actor=nobody' }, { signal: controller.signal }).catch(() => undefined);
    await waitForPending(hub, 1);
    const res = await request(url).get('/event?event=e&actor=b');
    expect([res.status, (res.body as { error: { code: string } }).error.code, res.headers['retry-after']]).toEqual([503, 'overloaded', '1']);
    conforms('/event', 'get', res);
    controller.abort();
    await parked;
  });

  it('shutting_down, store_unavailable and internal', async () => {
    const closing = await start();
    await closing.hub.close();
    const down = await start({ store: new UnreachableStore() });
    const answers = [
      await request(closing.url).post('/event').set('content-type', 'application/json').send({ event: 'e', actor: 'a' }),
      await request(down.url).get('/event?event=e&actor=a'),
    ];
    expect(answers.map((r) => (r.body as { error: { code: string } }).error.code)).toEqual(['shutting_down', 'store_unavailable']);
    conforms('/event', 'post', answers[0] as request.Response);
    conforms('/event', 'get', answers[1] as request.Response);
    const internal = await request(down.url).get('/stats');
    expect([internal.status, (internal.body as { error: { code: string } }).error.code]).toEqual([500, 'internal']);
    conforms('/stats', 'get', internal);
  });

  it('/stats, empty and with waiters, in JSON and YAML; and its own 400', async () => {
    const { url, hub } = await start();
    conforms('/stats', 'get', await request(url).get('/stats'));
    const controller = new AbortController();
    const parked = [
      hub.send({ event: 'lobby', actor: 'maker', payload: { game: 1 }, mates: 2, labels: { kind: 'maker' } }, { signal: controller.signal }),
      hub.send({ event: 'lobby', actor: 'p1' }, { signal: controller.signal }),
    ].map((p) => p.catch(() => undefined));
    await waitForPending(hub, 2);
    const json = await request(url).get('/stats');
    expect(Object.keys(json.body as object)).toEqual(['lobby']);
    conforms('/stats', 'get', json);
    conforms('/stats', 'get', await request(url).get('/stats?output=yaml'));
    const bad = await request(url).get('/stats?output=xml');
    expect(bad.status).toBe(400);
    conforms('/stats', 'get', bad);
    controller.abort();
    await Promise.all(parked);
  });

  it('a range group and a widened member, and /stats with a range and a stage', async () => {
    const { url, hub } = await start();
    const widened = new Promise<void>((resolve) => hub.once('widened', () => resolve()));
    const x = request(url).get('/event?event=w&actor=x&labels=level=5&selector=level%3D5&widen=50ms:level%3E1&widen=1m:').then((r) => r);
    const lobby = request(url).post('/event').send({ event: 'l', actor: 'a', mates: { min: 1, max: 3 }, linger: '1m' }).then((r) => r);
    await waitForPending(hub, 2);
    await widened;
    const stats = await request(url).get('/stats');
    conforms('/stats', 'get', stats);
    const tree = stats.body as Record<string, Record<string, Record<string, Record<string, unknown>>>>;
    const entry = Object.values(tree.w?.x ?? {})[0] ?? {};
    const entrySchema = doc.components.schemas.StatsEntry?.properties ?? {};
    const paramsSchema = doc.components.schemas.RequestParams?.properties ?? {};
    // Every field /stats shows is documented, not only allowed.
    for (const key of Object.keys(entry)) expect(Object.keys(entrySchema)).toContain(key);
    for (const e of [entry, Object.values(tree.l?.a ?? {})[0] ?? {}]) {
      for (const key of Object.keys(e.params as object)) expect(Object.keys(paramsSchema)).toContain(key);
    }
    const y = await request(url).get('/event?event=w&actor=y&labels=level=2');
    conforms('/event', 'get', y);
    expect((y.body as { members: { stage?: number }[] }).members.map((m) => m.stage)).toEqual([1, undefined]);
    conforms('/event', 'get', await x);
    // A lingering request the hub's shutdown answers: a documented 503.
    await hub.close();
    const closed = await lobby;
    expect(closed.status).toBe(503);
    conforms('/event', 'post', closed);
  });

  it('/stats entries without a payload (redacted stats) still match', () => {
    const check = ajv.compile(doc.paths['/stats']?.get?.responses['200']?.content?.['application/json']?.schema as object);
    const entry = { params: { event: 'e', actor: 'a', labels: { actor: 'a' }, selector: 'actor != a', mates: 1 }, created_at: '2020-01-09T20:00:44.676Z' };
    expect(check({ e: { a: { id1: entry } } })).toBe(true);
    expect(check({ e: { a: { id1: { ...entry, created_at: 'yesterday' } } } })).toBe(false);
  });
});
