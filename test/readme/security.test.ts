// Runs the README's bearer-token example as written: its code is compiled and loaded with `netsync` resolved to this package.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express } from 'express';
import request from 'supertest';
import { codeBlock, runModule } from './code';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README security example: a bearer token in front of netsync', () => {
  const previous = process.env.SYNC_TOKEN;
  let app: Express;

  beforeAll(async () => {
    process.env.SYNC_TOKEN = 's3cret-token';
    app = (await runModule(codeBlock(README, 'bearer-auth'))).app as Express;
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
