// The Lua selector evaluator agrees with the Kubernetes vectors and with the TypeScript matcher (same Lua source the store runs).
import fixtures from '../fixtures/k8s-selectors.json';
import { parseSelector } from '../../lib/selector';
import type { Labels } from '../../lib/selector/types';
import { luaRequirements } from '../../lib/stores/redis/codec';
import { SELECTOR_LUA } from '../../lib/stores/redis/lua';
import { describeRedis, RedisClients, type TestClient } from '../helpers/redis';

const HARNESS = `${SELECTOR_LUA}
return ns_selector_matches(cjson.decode(ARGV[1]), cjson.decode(ARGV[2])) and 1 or 0
`;

describeRedis('Lua selector evaluator', () => {
  const redis = new RedisClients();
  let client: TestClient;
  beforeAll(async () => {
    client = await redis.client();
  });
  afterAll(() => redis.cleanup());

  async function luaMatches(selector: string, labels: Labels): Promise<boolean> {
    const args = [JSON.stringify(luaRequirements(parseSelector(selector))), JSON.stringify(labels)];
    return (await client.eval(HARNESS, { keys: [], arguments: args })) === 1;
  }

  const vectors = fixtures.match.map((v) => [v.selector, v.labels as Labels, v.matches] as const);
  it.each(vectors)('%j on %j → %s', async (selector, labels, expected) => {
    expect(await luaMatches(selector, labels)).toBe(expected);
    expect(parseSelector(selector).matches(labels)).toBe(expected);
  });

  // Past 2^53 a double cannot tell these apart; the evaluator compares digit strings as int64.
  const numeric: [string, Labels, boolean][] = [
    ['x>9223372036854775806', { x: '9223372036854775807' }, true],
    ['x>9223372036854775807', { x: '9223372036854775807' }, false],
    ['x<9223372036854775807', { x: '9223372036854775806' }, true],
    ['x>9007199254740992', { x: '9007199254740993' }, true],
    ['x<9007199254740993', { x: '9007199254740992' }, true],
    ['x>1', { x: '9223372036854775808' }, false],
    ['x>1', { x: '00000000000000000000002' }, true],
    ['x<10', { x: '010' }, false],
    ['x>0', { x: '' }, false],
    ['x>0', { x: '1e3' }, false],
    ['x>0', { y: '5' }, false],
    ['x<0', { y: '5' }, false],
    ['x>41', { x: '42' }, true],
    ['x<42', { x: '42' }, false],
  ];
  it.each(numeric)('%s on %j → %s, as in TypeScript', async (selector, labels, expected) => {
    expect(parseSelector(selector).matches(labels)).toBe(expected);
    expect(await luaMatches(selector, labels)).toBe(expected);
  });

  it('agrees with the TypeScript matcher on a grid of selectors and labels', async () => {
    const selectors = ['', 'a', '!a', 'a=1', 'a!=1', 'a in (1,2)', 'a notin (1,2)', 'a>1', 'a<2', 'a,b=x', 'a=1,!b', 'b in (x,)'];
    const labelSets: Labels[] = [{}, { a: '1' }, { a: '2' }, { a: '3', b: 'x' }, { b: '' }, { a: '', b: 'y' }, { a: '-1' }];
    let checked = 0;
    for (const selector of selectors) {
      for (const labels of labelSets) {
        expect([selector, labels, await luaMatches(selector, labels)]).toEqual([selector, labels, parseSelector(selector).matches(labels)]);
        checked++;
      }
    }
    expect(checked).toBe(selectors.length * labelSets.length);
  });
});
