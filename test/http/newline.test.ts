// Every answer ends with a line break, so answers printed one after another (two curls) stay on their own lines.
import request from 'supertest';
import { routerPerTest, waitForPending } from './helpers';

const served = routerPerTest();

test.each([
  ['a JSON match', '/event?event=e&actor=a&mates=0', 200],
  ['a YAML match', '/event?event=e&actor=a&mates=0&output=yaml', 200],
  ['a JSON error', '/event?actor=a', 400],
  ['a YAML error', '/event?actor=a&output=yaml', 400],
  ['JSON /stats', '/stats', 200],
  ['YAML /stats', '/stats?output=yaml', 200],
])('%s', async (_case, path, status) => {
  const res = await request(served.url).get(path);
  expect(res.status).toBe(status);
  expect(res.text).toMatch(/[^\n]\n$/);
  expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
});

test('both members of a pair get the same text, one line each', async () => {
  const first = request(served.url).get('/event?event=e&actor=a&payload=1');
  const firstDone = first.then((res) => res);
  await waitForPending(served.hub, 1);
  const second = await request(served.url).get('/event?event=e&actor=b&payload=2');
  const texts = [(await firstDone).text, second.text];
  expect(texts[0]).toBe(texts[1]);
  expect(texts.join('').split('\n')).toEqual([texts[0]?.trimEnd(), texts[0]?.trimEnd(), '']);
});

test('a 405 ends with a line break too', async () => {
  const res = await request(served.url).put('/event');
  expect(res.status).toBe(405);
  expect(res.text).toMatch(/\}\n$/);
});
