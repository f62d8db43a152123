// Many distinct huge selectors over HTTP are parsed and matched, but the compiled-selector cache keeps none of them.
import request from 'supertest';
import { SELECTOR_CACHE_LIMITS, selectorCacheUsage } from '../../lib/params';
import type { Match } from '../../lib/types';
import { routerPerTest } from './helpers';

const served = routerPerTest();

/** A valid selector of about `length` characters that any request with label k=v satisfies. */
function hugeSelector(n: number, length: number): string {
  return `n!=x${n}${',k=v'.repeat(Math.ceil(length / 4))}`;
}

test('distinct 30 KB selectors are served but not cached; small ones are, within the size cap', async () => {
  const before = selectorCacheUsage();
  for (let n = 0; n < 40; n++) {
    const body = JSON.stringify({ event: 'e', actor: 'a', mates: 0, labels: { k: 'v' }, selector: hugeSelector(n, 30_000) });
    const res = await request(served.url).post('/event').set('Content-Type', 'application/json').send(body);
    expect(res.status).toBe(200);
    expect((res.body as Match).payloads).toEqual({ a: null });
  }
  expect(selectorCacheUsage()).toEqual(before);

  const small = await request(served.url).get('/event?event=e&actor=a&mates=0&selector=k%3Dv');
  expect(small.status).toBe(200);
  const after = selectorCacheUsage();
  expect(after.characters).toBeGreaterThan(before.characters);
  expect(after.characters).toBeLessThanOrEqual(2 * SELECTOR_CACHE_LIMITS.maxWeight);
});
