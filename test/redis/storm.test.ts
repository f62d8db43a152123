// Mate ranges and widening under concurrency: three instances, hundreds of sends with lingering windows,
// stage changes and aborts racing each other; the rules are checked on every group and on what is left.
import { isNetsyncError } from '../../lib/errors';
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { recordsKey } from '../../lib/stores/redis/keys';
import type { SendParams } from '../../lib/types';
import { MODEL_LABEL_SETS, MODEL_SELECTORS, type ModelLabels, type ModelSelector } from '../helpers/model';
import { describeRedis, RedisClients } from '../helpers/redis';
import { until } from '../helpers/until';
import { seeded as random } from '../helpers/random';
import type { Outcome } from '../helpers/outcome';
import { recordGroups } from '../helpers/groups';

/** The specs requests pick from: `min`/`max` mates, and the fields that send them. */
const SPECS = [
  { min: 1, max: 2, params: { mates: '1..2', linger: '80ms' } },
  { min: 1, max: 3, params: { mates: '1..3', linger: '120ms' } },
  { min: 0, max: 2, params: { mates: '0..2', linger: '60ms' } },
  { min: 1, max: 1, params: { mates: 1 } },
] as const;

/** The default selector: what an empty widening stage means. */
const ANYONE_ELSE = MODEL_SELECTORS[0]!;

interface StormRequest {
  readonly n: number;
  readonly event: string;
  readonly actor: string;
  readonly spec: number;
  readonly labels: ModelLabels;
  readonly selector: ModelSelector;
  readonly widens: boolean;
}

function selectorAt(r: StormRequest, stage: number): ModelSelector {
  return stage > 0 && r.widens ? ANYONE_ELSE : r.selector;
}

function compatible(a: StormRequest, sa: number, b: StormRequest, sb: number): boolean {
  return a.event === b.event && a.spec === b.spec && selectorAt(a, sa).test(b.labels, a) && selectorAt(b, sb).test(a.labels, b);
}

const SENDS = Number(process.env.RANGE_STORM ?? 600);

describeRedis('RedisStore ranges and widening under concurrency', () => {
  jest.setTimeout(120_000);
  const redis = new RedisClients();
  afterAll(() => redis.cleanup());

  it(`keeps the rules with ${SENDS} concurrent sends, stage changes and aborts across three instances`, async () => {
    const prefix = redis.prefix();
    const stores = await Promise.all([0, 1, 2].map(async () => new RedisStore({ client: await redis.client(), prefix })));
    const hubs = stores.map((store) => new Netsync({ store }));
    const events = ['m1', 'm2'];
    try {
      const next = random(20261201);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
      const requests = new Map<string, StormRequest>();
      const settled = new Map<string, Outcome>();
      const groups = recordGroups(hubs);
      const aborts: Promise<void>[] = [];
      for (let n = 0; n < SENDS; n++) {
        const hub = hubs[n % 3]!;
        const spec = Math.floor(next() * SPECS.length);
        const labels = pick(MODEL_LABEL_SETS);
        const selector = pick(MODEL_SELECTORS);
        const widens = next() < 0.3;
        const actor = pick(['a', 'b', 'c', 'd', 'e']);
        const params: SendParams = { event: pick(events), actor, labels: { ...labels }, payload: n, ...SPECS[spec]!.params };
        if (selector.text !== undefined) params.selector = selector.text;
        if (widens) params.widen = [{ after: '30ms', selector: '' }];
        const controller = new AbortController();
        let id = '';
        hub.once('pending', (p) => {
          id = p.id;
        });
        hub.send(params, { signal: controller.signal }).then(
          (match) => settled.set(id, { ok: true, match }),
          (error: unknown) => settled.set(id, { ok: false, error }),
        );
        requests.set(id, { n, event: params.event, actor, spec, labels: { ...labels, actor }, selector, widens });
        if (next() < 0.2) {
          const delay = Math.floor(next() * 150);
          aborts.push(new Promise((resolve) => setTimeout(() => {
            controller.abort(new Error('aborted'));
            resolve();
          }, delay)));
        }
        if (n % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await Promise.all(aborts);

      // Quiescent: every stage reached, and no window open (an open window's end would still form a group).
      const admin = await redis.client();
      const windowKeys = events.map((event) => recordsKey(prefix, event).replace(/reqs$/, 'win'));
      let pending: { id: string; stage: number }[] = [];
      await until(async () => {
        if ((await admin.exists(windowKeys)) > 0) return false;
        pending = (await stores[0]!.pending()).map((s) => ({ id: s.id, stage: s.stage ?? 0 }));
        return pending.every(({ id, stage }) => !requests.get(id)!.widens || stage === 1) && (await admin.exists(windowKeys)) === 0;
      }, 'every window to close and every stage to be reached', 60_000);

      // Every caller not listed any more has its answer (a group's message may still have been on its way).
      const left = new Set(pending.map((p) => p.id));
      await until(() => [...requests.keys()].every((id) => left.has(id) || settled.has(id)), 'every answer to arrive');

      // Every group: one event and spec, a size the spec allows, pairwise compatible at the members' stages.
      const inGroup = new Set<string>();
      for (const group of groups.values()) {
        const members = group.members.map((m) => ({ req: requests.get(m.id)!, stage: m.stage ?? 0 }));
        const spec = SPECS[members[0]!.req.spec]!;
        expect(members.length).toBeGreaterThanOrEqual(spec.min + 1);
        expect(members.length).toBeLessThanOrEqual(spec.max + 1);
        for (const a of members) for (const b of members) if (a !== b) expect(compatible(a.req, a.stage, b.req, b.stage)).toBe(true);
        for (const { id } of group.members) {
          expect(inGroup.has(id)).toBe(false);
          inGroup.add(id);
        }
      }
      // Every caller got its group (the same as its mates), or left; nobody matched is still listed.
      for (const id of requests.keys()) {
        const outcome = settled.get(id);
        if (inGroup.has(id)) {
          expect(left.has(id)).toBe(false);
          // Only a caller that left while its group was forming misses it.
          if (outcome !== undefined && !outcome.ok) expect((outcome.error as Error).message).toBe('aborted');
          if (outcome?.ok === true) expect(outcome.match.members.map((m) => m.payload)).toContain(requests.get(id)!.n);
        } else if (outcome !== undefined) {
          expect(outcome.ok ? 'matched' : isNetsyncError(outcome.error) ? outcome.error.code : (outcome.error as Error).message).toBe('aborted');
        }
      }
      // Nothing formable was left waiting: no two requests still pending could meet (every spec's MIN is at most 1,
      // and MIN = 0 never waits past its linger).
      const rest = pending.map((p) => ({ req: requests.get(p.id)!, stage: p.stage }));
      expect(rest.filter((r) => SPECS[r.req.spec]!.min === 0)).toEqual([]);
      for (const a of rest) {
        for (const b of rest) if (a !== b) expect([a.req.n, b.req.n, compatible(a.req, a.stage, b.req, b.stage)]).toEqual([a.req.n, b.req.n, false]);
      }
      expect(groups.size).toBeGreaterThan(30);
      expect([...groups.values()].some((g) => g.members.length >= 3)).toBe(true);
      expect([...groups.values()].some((g) => g.members.some((m) => m.stage === 1))).toBe(true);
    } finally {
      await Promise.all(hubs.map((hub) => hub.close()));
    }
  });
});
