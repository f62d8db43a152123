// Runs the README's bearer-token example as written: its code is compiled and loaded with `netsync` resolved to this package.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import ts from 'typescript';
import * as library from '../../lib/index';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

/** The `ts` block after `<!-- code: NAME -->`. */
function codeBlock(name: string): string {
  const found = new RegExp(`<!-- code: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (found?.[1] === undefined) throw new Error(`README has no ts block marked code: ${name}`);
  return found[1];
}

/** Compile `source` to CommonJS and run it as a module whose `netsync` import is this package; returns its exports. */
function load(source: string): Record<string, unknown> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  const module = { exports: {} as Record<string, unknown> };
  const requireHere = createRequire(__filename);
  const requireFor = (id: string): unknown => (id === 'netsync' ? library : requireHere(id));
  // The README's code is this repository's own text, run as a module of this test.
  const run = new Function('require', 'module', 'exports', outputText) as (r: unknown, m: unknown, e: unknown) => void;
  run(requireFor, module, module.exports);
  return module.exports;
}

describe('README security example: a bearer token in front of netsync', () => {
  const previous = process.env.SYNC_TOKEN;
  let app: Express;

  beforeAll(() => {
    process.env.SYNC_TOKEN = 's3cret-token';
    app = load(codeBlock('bearer-auth')).app as Express;
  });

  afterAll(() => {
    if (previous === undefined) delete process.env.SYNC_TOKEN;
    else process.env.SYNC_TOKEN = previous;
  });

  test.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer s3cret-tokeX'],
    ['a token of another length', 'Bearer s3cret'],
    ['the token without the Bearer scheme', 's3cret-token'],
  ])('%s gets a 401 and never reaches netsync', async (_case, authorization) => {
    for (const path of ['/sync/event?event=e&actor=a&mates=0', '/sync/stats']) {
      const req = request(app).get(path);
      const res = await (authorization === undefined ? req : req.set('Authorization', authorization));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect((res.body as { error: { code: string } }).error.code).toBe('unauthorized');
    }
  });

  test('the right token reaches /sync/event and a redacted /sync/stats', async () => {
    const res = await request(app).get('/sync/event?event=e&actor=a&mates=0&payload=hi').set('Authorization', 'Bearer s3cret-token');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ payloads: { a: 'hi' }, members: [{ actor: 'a', payload: 'hi', labels: { actor: 'a' } }] });
    const stats = await request(app).get('/sync/stats').set('Authorization', 'Bearer s3cret-token');
    expect([stats.status, stats.body]).toEqual([200, {}]);
  });
});
