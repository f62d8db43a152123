// The contract every MatcherStore must keep (ARCHITECTURE.md), driven through a Netsync hub's public API; run once per store.
import fc from 'fast-check';
import { isNetsyncError } from '../../lib/errors';
import { Netsync, storeCallsEnded } from '../../lib/netsync';
import type { MatcherStore } from '../../lib/stores/types';
import type { JsonValue, Match, SendParams } from '../../lib/types';
import {
  MatchModel, MODEL_LABEL_SETS, MODEL_SELECTORS, type ModelLabels, type ModelRequest,
} from '../helpers/model';

/** Makes fresh, empty stores for the suite. */
export interface StoreFactory {
  name: string;
  /** A fresh, empty store (e.g. a new key prefix for Redis). */
  create(): Promise<MatcherStore>;
}

/** How a send ended, recorded as soon as it settles so no rejection goes unhandled. */
type Outcome = { ok: true; value: Match } | { ok: false; error: unknown };

/** A send under test: its request id (from the hub's `pending` event) and its outcome. */
interface Sent {
  readonly id: string;
  readonly outcome: Promise<Outcome>;
  settled: Outcome | undefined;
  /** When it settled (Date.now()), for lower bounds on windows and stages. */
  settledAt: number | undefined;
}

/** A hub on a fresh store, recording the ids of its requests and the stages they reached. */
class Harness {
  readonly ids: string[] = [];
  readonly #stages = new Map<string, number>();
  readonly #stageWaits: { id: string; stage: number; resolve: () => void }[] = [];
  constructor(readonly hub: Netsync) {
    hub.on('pending', (req) => this.ids.push(req.id));
    hub.on('widened', (req, stage) => {
      this.#stages.set(req.id, stage);
      for (const wait of this.#stageWaits.filter((w) => w.id === req.id && w.stage <= stage)) {
        this.#stageWaits.splice(this.#stageWaits.indexOf(wait), 1);
        wait.resolve();
      }
    });
  }

  send(params: SendParams, options?: { signal?: AbortSignal; timeoutMs?: number }): Sent {
    const before = this.ids.length;
    const promise = this.hub.send(params, options);
    const sent: Sent = {
      id: this.ids[before] ?? '',
      outcome: promise.then(
        (value): Outcome => {
          sent.settledAt = Date.now();
          return (sent.settled = { ok: true, value });
        },
        (error: unknown): Outcome => {
          sent.settledAt = Date.now();
          return (sent.settled = { ok: false, error });
        },
      ),
      settled: undefined,
      settledAt: undefined,
    };
    return sent;
  }

  /** Resolves once the store took `sent`'s request to `stage` (the hub's `widened` event). */
  stageReached(sent: Sent, stage: number): Promise<void> {
    if ((this.#stages.get(sent.id) ?? 0) >= stage) return Promise.resolve();
    const reached = new Promise<void>((resolve) => this.#stageWaits.push({ id: sent.id, stage, resolve }));
    // A send that settles first never reaches the stage: say so rather than wait for the test's timeout.
    const settledFirst = sent.outcome.then((outcome) => {
      throw new Error(`the send settled before stage ${stage}: ${outcome.ok ? 'matched' : String(outcome.error)}`);
    });
    return Promise.race([reached, settledFirst]);
  }

  /** Ids of every pending request, once this hub's offers and withdrawals reached the store. */
  async pendingIds(): Promise<string[]> {
    // stats() alone waits for them only within a bound, which a slow Redis on a busy machine can outlast.
    await storeCallsEnded(this.hub);
    const tree = await this.hub.stats();
    const ids: string[] = [];
    for (const byActor of Object.values(tree)) for (const byId of Object.values(byActor)) ids.push(...Object.keys(byId));
    return ids.sort();
  }
}

async function matched(sent: Sent): Promise<Match> {
  const outcome = await sent.outcome;
  if (!outcome.ok) throw new Error(`expected a match, got ${String(outcome.error)}`);
  return outcome.value;
}

async function failed(sent: Sent): Promise<unknown> {
  const outcome = await sent.outcome;
  if (outcome.ok) throw new Error(`expected an error, got a match with ${JSON.stringify(outcome.value.members)}`);
  return outcome.error;
}

function codeOf(error: unknown): string | undefined {
  return isNetsyncError(error) ? error.code : undefined;
}

function actorsOf(match: Match): string[] {
  return match.members.map((m) => m.actor);
}

/**
 * Lets time pass. Only where time passing is what a test is about (a window or stage that must not have
 * ended yet when the next request arrives); every outcome itself is awaited as an event.
 */
function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Node timers may fire up to a millisecond before Date.now() shows their full delay, and a deadline on the
 * store's clock is rounded to whole milliseconds: lower bounds allow that much.
 */
const CLOCK_SLACK_MS = 3;

/** Defines the contract tests for the stores `factory` makes. */
export function describeStoreContract(factory: StoreFactory): void {
  describe(`store contract: ${factory.name}`, () => {
    const open: Netsync[] = [];
    async function harness(): Promise<Harness> {
      const hub = new Netsync({ store: await factory.create() });
      open.push(hub);
      return new Harness(hub);
    }
    afterEach(async () => {
      await Promise.all(open.splice(0).map((hub) => hub.close()));
    });

    it('forms a pair and gives both members the same result, members in arrival order', async () => {
      const h = await harness();
      const a = h.send({ event: 'e', actor: 'A', payload: { n: 1 } });
      const b = h.send({ event: 'e', actor: 'B', payload: 'two' });
      const [ma, mb] = await Promise.all([matched(a), matched(b)]);
      const expected = {
        payloads: { A: { n: 1 }, B: 'two' },
        members: [
          { actor: 'A', payload: { n: 1 }, labels: { actor: 'A' } },
          { actor: 'B', payload: 'two', labels: { actor: 'B' } },
        ],
      };
      expect(ma).toEqual(expected);
      expect(mb).toEqual(expected);
      expect(await h.pendingIds()).toEqual([]);
    });

    it('only matches requests of the same event', async () => {
      const h = await harness();
      const a = h.send({ event: 'e1', actor: 'A' });
      const b = h.send({ event: 'e2', actor: 'B' });
      expect(await h.pendingIds()).toEqual([a.id, b.id].sort());
      const c = h.send({ event: 'e2', actor: 'C' });
      expect((await matched(c)).members.map((m) => m.actor)).toEqual(['B', 'C']);
      expect(await h.pendingIds()).toEqual([a.id]);
    });

    it('never puts requests with different mates together', async () => {
      const h = await harness();
      const one = h.send({ event: 'e', actor: 'A', mates: 1 });
      const two = h.send({ event: 'e', actor: 'B', mates: 2 });
      expect(await h.pendingIds()).toEqual([one.id, two.id].sort());
      const three = h.send({ event: 'e', actor: 'C', mates: 2 });
      expect(await h.pendingIds()).toEqual([one.id, two.id, three.id].sort());
      const pair = h.send({ event: 'e', actor: 'D', mates: 1 });
      expect((await matched(pair)).members.map((m) => m.actor)).toEqual(['A', 'D']);
      const trio = h.send({ event: 'e', actor: 'E', mates: '2' });
      expect((await matched(trio)).members.map((m) => m.actor)).toEqual(['B', 'C', 'E']);
      expect(await h.pendingIds()).toEqual([]);
    });

    it('forms groups only of pairwise-compatible members (a clique), the earliest one by arrival', async () => {
      const h = await harness();
      // p1 accepts only red; p2 is blue. A newcomer compatible with both must not join them.
      const p1 = h.send({ event: 'e', actor: 'p1', mates: 2, labels: { team: 'red' }, selector: 'team=red' });
      const p2 = h.send({ event: 'e', actor: 'p2', mates: 2, labels: { team: 'blue' }, selector: '' });
      const n = h.send({ event: 'e', actor: 'n', mates: 2, labels: { team: 'red' }, selector: '' });
      expect(await h.pendingIds()).toEqual([p1.id, p2.id, n.id].sort());
      // {p1, n} is the earliest clique for a red newcomer; p2 is compatible but younger-first would pick it.
      const q = h.send({ event: 'e', actor: 'q', mates: 2, labels: { team: 'red' }, selector: '' });
      const result = await matched(q);
      expect(result.members.map((m) => m.actor)).toEqual(['p1', 'n', 'q']);
      expect(await matched(p1)).toEqual(result);
      expect(await matched(n)).toEqual(result);
      expect(await h.pendingIds()).toEqual([p2.id]);
    });

    it('takes the oldest compatible pending request for a pair, across classes', async () => {
      const h = await harness();
      // Hosts never match hosts (they have a role; they want none), so they queue.
      const w1 = h.send({ event: 'e', actor: 'w1', labels: { role: 'host', team: 'red' }, selector: '!role' });
      const w2 = h.send({ event: 'e', actor: 'w2', labels: { role: 'host' }, selector: '!role' });
      const w3 = h.send({ event: 'e', actor: 'w3', labels: { role: 'host', team: 'red' }, selector: '!role' });
      expect(await h.pendingIds()).toEqual([w1.id, w2.id, w3.id].sort());
      const partners: string[] = [];
      for (const guest of ['g1', 'g2', 'g3']) {
        const g = h.send({ event: 'e', actor: guest, selector: 'role=host' });
        const first = (await matched(g)).members[0];
        partners.push(first?.actor ?? '');
      }
      expect(partners).toEqual(['w1', 'w2', 'w3']);
      expect(await h.pendingIds()).toEqual([]);
    });

    it('meets the oldest acceptable waiter of a lobby, past waiters a selector rules out', async () => {
      const h = await harness();
      // Distinct players wait for a game maker; they never accept one another.
      const players = Array.from({ length: 30 }, (_, i) => h.send({
        event: 'lobby', actor: `p${i}`, labels: { role: 'w', level: String(i % 3) }, selector: 'role=m',
      }));
      const late = h.send({ event: 'lobby', actor: 'late', labels: { role: 'w', level: '2' }, selector: 'role=m' });
      expect(await h.pendingIds()).toHaveLength(31);
      const picks: string[] = [];
      for (const selector of ['role=w,level=2', 'role=w,level in (0,1)', 'role=w', 'level=1']) {
        const maker = h.send({ event: 'lobby', actor: 'gm', labels: { role: 'm' }, selector });
        picks.push((await matched(maker)).members.map((m) => m.actor).join('+'));
      }
      expect(picks).toEqual(['p2+gm', 'p0+gm', 'p1+gm', 'p4+gm']);
      // A maker the players do not accept waits with them.
      const stranger = h.send({ event: 'lobby', actor: 'gx', labels: { role: 'x' }, selector: 'role=w' });
      const expected = [...players.filter((_, i) => ![0, 1, 2, 4].includes(i)).map((p) => p.id), late.id, stranger.id];
      expect(await h.pendingIds()).toEqual(expected.sort());
    });

    it('takes the oldest clique for groups', async () => {
      const h = await harness();
      // Everyone wants a group of distinct teams.
      const send = (actor: string, team: string): Sent =>
        h.send({ event: 'e', actor, mates: 2, labels: { team }, selector: `team!=${team}` });
      const r1 = send('r1', 'red');
      const r2 = send('r2', 'red');
      const b1 = send('b1', 'blue');
      const b2 = send('b2', 'blue');
      expect(await h.pendingIds()).toEqual([r1.id, r2.id, b1.id, b2.id].sort());
      expect((await matched(send('g1', 'green'))).members.map((m) => m.actor)).toEqual(['r1', 'b1', 'g1']);
      expect((await matched(send('g2', 'green'))).members.map((m) => m.actor)).toEqual(['r2', 'b2', 'g2']);
      expect(await h.pendingIds()).toEqual([]);
    });

    it('puts a request in at most one group', async () => {
      const h = await harness();
      const a = h.send({ event: 'e', actor: 'A', selector: '' });
      const b = h.send({ event: 'e', actor: 'B', selector: '' });
      const c = h.send({ event: 'e', actor: 'C', selector: '' });
      expect((await matched(a)).members.map((m) => m.actor)).toEqual(['A', 'B']);
      expect(await matched(b)).toEqual(await matched(a));
      expect(await h.pendingIds()).toEqual([c.id]);
      expect(c.settled).toBeUndefined();
    });

    it('never matches a withdrawn request', async () => {
      const h = await harness();
      const controller = new AbortController();
      const a = h.send({ event: 'e', actor: 'A' }, { signal: controller.signal });
      expect(await h.pendingIds()).toEqual([a.id]);
      const reason = new Error('client went away');
      controller.abort(reason);
      expect(await failed(a)).toBe(reason);
      const b = h.send({ event: 'e', actor: 'B' });
      expect(await h.pendingIds()).toEqual([b.id]);
      const c = h.send({ event: 'e', actor: 'C' });
      expect((await matched(c)).members.map((m) => m.actor)).toEqual(['B', 'C']);
    });

    it('never matches a request withdrawn while its offer is still on its way to the store', async () => {
      const h = await harness();
      const controller = new AbortController();
      const a = h.send({ event: 'e', actor: 'A' }, { signal: controller.signal });
      // Aborted before the store answered A's offer (for Redis, the offer is still on the wire).
      controller.abort(new Error('client went away'));
      await failed(a);
      const b = h.send({ event: 'e', actor: 'B' });
      expect(await h.pendingIds()).toEqual([b.id]);
      expect(b.settled).toBeUndefined();
      const c = h.send({ event: 'e', actor: 'C' });
      expect((await matched(c)).members.map((m) => m.actor)).toEqual(['B', 'C']);
    });

    it('never offers a request that left while its offer waited behind an earlier withdrawal', async () => {
      const h = await harness();
      const d = h.send({ event: 'e', actor: 'D', selector: 'actor=B' });
      expect(await h.pendingIds()).toEqual([d.id]);
      const first = new AbortController();
      const a = h.send({ event: 'e', actor: 'A', selector: 'nobody' }, { signal: first.signal });
      first.abort(new Error('A went away'));
      // B's offer now waits until A's withdrawal reached the store; B leaves before that.
      const second = new AbortController();
      const b = h.send({ event: 'e', actor: 'B' }, { signal: second.signal });
      second.abort(new Error('B went away'));
      await Promise.all([failed(a), failed(b)]);
      expect(await h.pendingIds()).toEqual([d.id]);
      expect(d.settled).toBeUndefined();
    });

    it('rejects at once when the signal is already aborted, and keeps nothing pending', async () => {
      const h = await harness();
      const reason = new Error('gone before sending');
      const a = h.send({ event: 'e', actor: 'A' }, { signal: AbortSignal.abort(reason) });
      expect(await failed(a)).toBe(reason);
      expect(await h.pendingIds()).toEqual([]);
    });

    it('rejects with timeout and withdraws the request', async () => {
      const h = await harness();
      const a = h.send({ event: 'e', actor: 'A', selector: 'nobody' }, { timeoutMs: 20 });
      expect(codeOf(await failed(a))).toBe('timeout');
      expect(await h.pendingIds()).toEqual([]);
      const b = h.send({ event: 'e', actor: 'B', labels: { nobody: 'x' } });
      expect(await h.pendingIds()).toEqual([b.id]);
    });

    it('resolves mates: 0 at once with only its own payload', async () => {
      const h = await harness();
      const waiting = h.send({ event: 'e', actor: 'B', selector: '' });
      const alone = h.send({ event: 'e', actor: 'A', payload: [1, 2], mates: 0 });
      expect(await matched(alone)).toEqual({
        payloads: { A: [1, 2] },
        members: [{ actor: 'A', payload: [1, 2], labels: { actor: 'A' } }],
      });
      expect(await h.pendingIds()).toEqual([waiting.id]);
    });

    it('keeps every member when actor names repeat, and treats __proto__ as a plain name', async () => {
      const h = await harness();
      const a = h.send({ event: 'e', actor: 'dup', payload: 1, selector: 'actor' });
      const b = h.send({ event: 'e', actor: 'dup', payload: 2, selector: 'actor' });
      const result = await matched(a);
      expect(result.members.map((m) => m.payload)).toEqual([1, 2]);
      expect(result.payloads.dup).toBe(2);
      expect(await matched(b)).toEqual(result);

      const p = h.send({ event: 'e', actor: '__proto__', payload: 'x', selector: '' });
      const q = h.send({ event: 'e', actor: 'constructor', payload: 'y', selector: '' });
      const protoMatch = await matched(p);
      expect(Object.keys(protoMatch.payloads).sort()).toEqual(['__proto__', 'constructor']);
      expect(protoMatch.payloads.__proto__).toBe('x');
      expect(await matched(q)).toEqual(protoMatch);
    });

    it('rejects waiters with shutting_down on close, and later sends too', async () => {
      const h = await harness();
      const a = h.send({ event: 'e', actor: 'A' });
      expect(await h.pendingIds()).toEqual([a.id]);
      await h.hub.close();
      expect(codeOf(await failed(a))).toBe('shutting_down');
      expect(codeOf(await failed(h.send({ event: 'e', actor: 'B' })))).toBe('shutting_down');
      await h.hub.close();
    });

    it('lists pending requests in stats as event → actor → id → { params, created_at }', async () => {
      const h = await harness();
      const before = Date.now();
      const a = h.send({ event: 'joinGame', actor: 'gameMaker', payload: 'gameid=123', mates: 2 });
      const b = h.send({ event: 'joinGame', actor: 'p1', mates: '2', labels: 'kind=player', selector: 'kind!=bot' });
      const tree = await h.hub.stats();
      expect(tree).toEqual({
        joinGame: {
          gameMaker: {
            [a.id]: {
              params: {
                event: 'joinGame', actor: 'gameMaker', payload: 'gameid=123',
                labels: { actor: 'gameMaker' }, selector: 'actor != gameMaker', mates: 2,
              },
              created_at: expect.any(String),
            },
          },
          p1: {
            [b.id]: {
              params: {
                event: 'joinGame', actor: 'p1', payload: null,
                labels: { actor: 'p1', kind: 'player' }, selector: 'kind!=bot', mates: 2,
              },
              created_at: expect.any(String),
            },
          },
        },
      });
      const createdAt = tree.joinGame?.gameMaker?.[a.id]?.created_at ?? '';
      expect(new Date(createdAt).toISOString()).toBe(createdAt);
      expect(Date.parse(createdAt)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    });

    describe('mate ranges (MIN..MAX with a linger window)', () => {
      /** A range send; the linger is long unless a test is about the window ending. */
      const lobby = (actor: string, extra: Partial<SendParams> = {}): SendParams => ({
        event: 'lobby', actor, payload: actor, mates: '1..3', linger: '60s', ...extra,
      });

      it('forms a full MAX+1 group at once, oldest first, and the (MAX+2)th waits', async () => {
        const h = await harness();
        const sent = ['a', 'b', 'c', 'd', 'e'].map((actor) => h.send(lobby(actor)));
        const group = await matched(sent[3] as Sent);
        expect(actorsOf(group)).toEqual(['a', 'b', 'c', 'd']);
        for (const s of sent.slice(0, 4)) expect(await matched(s)).toEqual(group);
        expect(await h.pendingIds()).toEqual([(sent[4] as Sent).id]);
        expect(sent[4]?.settled).toBeUndefined();
      });

      it('lets a possible group wait out its window instead of forming at once', async () => {
        const h = await harness();
        const a = h.send(lobby('a'));
        const b = h.send(lobby('b'));
        const c = h.send(lobby('c'));
        // Three of at most four, with a window of a minute: nobody has gone yet.
        expect(await h.pendingIds()).toEqual([a.id, b.id, c.id].sort());
        expect([a.settled, b.settled, c.settled]).toEqual([undefined, undefined, undefined]);
        // The fourth completes MAX+1 during the window: the group goes at once, window or not.
        const d = h.send(lobby('d'));
        expect(actorsOf(await matched(d))).toEqual(['a', 'b', 'c', 'd']);
        expect(await h.pendingIds()).toEqual([]);
      });

      it('forms the group with everyone who came once the window ends, and not before it ends', async () => {
        const h = await harness();
        const linger = 250;
        const a = h.send(lobby('a', { linger: `${linger}ms` }));
        const opened = Date.now();
        const b = h.send(lobby('b', { linger: `${linger}ms` }));
        const c = h.send(lobby('c', { linger: `${linger}ms` }));
        const group = await matched(a);
        expect(actorsOf(group)).toEqual(['a', 'b', 'c']);
        expect(await matched(b)).toEqual(group);
        expect(await matched(c)).toEqual(group);
        // The window opened with b's arrival, after `opened`.
        expect((a.settledAt ?? 0) - opened).toBeGreaterThanOrEqual(linger - CLOCK_SLACK_MS);
        expect(await h.pendingIds()).toEqual([]);
      });

      it('never puts requests with different specs together (min, max or linger)', async () => {
        const h = await harness();
        const specs: Partial<SendParams>[] = [
          { mates: '1..3', linger: '60s' }, { mates: '1..3', linger: '50s' }, { mates: '1..2', linger: '60s' },
          { mates: '2..3', linger: '60s' }, { mates: 1 }, { mates: 3 },
        ];
        const sent = specs.map((spec, i) => h.send({ event: 'e', actor: `s${i}`, ...spec }));
        expect(await h.pendingIds()).toEqual(sent.map((s) => s.id).sort());
        // An exact pair meets only the exact pair, never a range that would take one more.
        const pair = h.send({ event: 'e', actor: 'p', mates: 1 });
        expect(actorsOf(await matched(pair))).toEqual(['s4', 'p']);
        // MIN..MIN is the exact count MIN.
        const three = [h.send({ event: 'e', actor: 't1', mates: '3..3' }), h.send({ event: 'e', actor: 't2', mates: { min: 3, max: 3 } })];
        const last = h.send({ event: 'e', actor: 't3', mates: 3 });
        expect(actorsOf(await matched(last))).toEqual(['s5', 't1', 't2', 't3']);
        for (const s of three) expect(actorsOf(await matched(s))).toEqual(['s5', 't1', 't2', 't3']);
        expect(await h.pendingIds()).toEqual(sent.slice(0, 4).map((s) => s.id).sort());
      });

      it('closes the window when a withdrawal makes a group impossible, and opens a full new one later', async () => {
        const h = await harness();
        const linger = 300;
        const a = h.send(lobby('a', { linger: `${linger}ms` }));
        const leaving = new AbortController();
        const b = h.send(lobby('b', { linger: `${linger}ms` }), { signal: leaving.signal });
        expect(await h.pendingIds()).toEqual([a.id, b.id].sort());
        leaving.abort(new Error('b went away'));
        await failed(b);
        expect(await h.pendingIds()).toEqual([a.id]);
        // Past half the old window: had it stayed open, a and c would go at its old end.
        await elapse(linger / 2);
        const reopened = Date.now();
        const c = h.send(lobby('c', { linger: `${linger}ms` }));
        const group = await matched(c);
        expect(actorsOf(group)).toEqual(['a', 'c']);
        expect((c.settledAt ?? 0) - reopened).toBeGreaterThanOrEqual(linger - CLOCK_SLACK_MS);
        expect(await matched(a)).toEqual(group);
      });

      it('keeps the window while a group is still possible after a withdrawal', async () => {
        const h = await harness();
        const linger = 250;
        const a = h.send(lobby('a', { linger: `${linger}ms` }));
        const opened = Date.now();
        const leaving = new AbortController();
        const b = h.send(lobby('b', { linger: `${linger}ms` }), { signal: leaving.signal });
        const c = h.send(lobby('c', { linger: `${linger}ms` }));
        expect(await h.pendingIds()).toEqual([a.id, b.id, c.id].sort());
        leaving.abort(new Error('b went away'));
        await failed(b);
        const group = await matched(a);
        expect(actorsOf(group)).toEqual(['a', 'c']);
        expect((a.settledAt ?? 0) - opened).toBeGreaterThanOrEqual(linger - CLOCK_SLACK_MS);
      });

      it('with MIN = 0, a request lingers alone and then goes alone', async () => {
        const h = await harness();
        const linger = 150;
        const before = Date.now();
        const a = h.send({ event: 'solo', actor: 'a', payload: 1, mates: '0..2', linger: `${linger}ms` });
        expect(await matched(a)).toEqual({ payloads: { a: 1 }, members: [{ actor: 'a', payload: 1, labels: { actor: 'a' } }] });
        expect((a.settledAt ?? 0) - before).toBeGreaterThanOrEqual(linger - CLOCK_SLACK_MS);
        expect(await h.pendingIds()).toEqual([]);
      });

      it('forms the largest group when the window ends, the earliest first, and opens a new window for the rest', async () => {
        const h = await harness();
        const linger = 200;
        // Reds accept only reds, blues only blues: two possible groups in one bucket, one window.
        const send = (actor: string, team: string): Sent =>
          h.send({ event: 'teams', actor, mates: '1..3', linger: `${linger}ms`, labels: { team }, selector: `team=${team}` });
        const b1 = send('b1', 'blue');
        const r1 = send('r1', 'red');
        const b2 = send('b2', 'blue');
        const r2 = send('r2', 'red');
        const r3 = send('r3', 'red');
        const reds = await matched(r1);
        // Three reds beat two older blues (larger first); the blues get a window of their own from then on.
        expect(actorsOf(reds)).toEqual(['r1', 'r2', 'r3']);
        expect(await matched(r2)).toEqual(reds);
        expect(await matched(r3)).toEqual(reds);
        const blues = await matched(b1);
        expect(actorsOf(blues)).toEqual(['b1', 'b2']);
        expect(await matched(b2)).toEqual(blues);
        // Not at the end of the first window (with the reds) but a window later; half of it shows that on any clock.
        expect((b1.settledAt ?? 0) - (r1.settledAt ?? 0)).toBeGreaterThanOrEqual(linger / 2);
      });

      it("applies each member's own timeout while it lingers", async () => {
        const h = await harness();
        const a = h.send(lobby('a'), { timeoutMs: 50 });
        const b = h.send(lobby('b'));
        expect(codeOf(await failed(a))).toBe('timeout');
        expect(await h.pendingIds()).toEqual([b.id]);
        expect(b.settled).toBeUndefined();
      });

      it('shows the range and its linger in stats', async () => {
        const h = await harness();
        const a = h.send({ event: 'lobby', actor: 'a', mates: { min: 2, max: 4 }, linger: 90 });
        const tree = await h.hub.stats();
        expect(tree.lobby?.a?.[a.id]?.params).toEqual({
          event: 'lobby', actor: 'a', payload: null, labels: { actor: 'a' }, selector: 'actor != a', mates: '2..4', linger: '90s',
        });
      });
    });

    describe('selector widening (widen stages)', () => {
      it('forms a group when a stage change makes it possible, and not before', async () => {
        const h = await harness();
        const after = 200;
        const started = Date.now();
        const x = h.send({ event: 'w', actor: 'x', labels: { level: '5' }, selector: 'level=5', widen: [{ after: `${after}ms`, selector: 'level in (3,4,5,6,7)' }] });
        const y = h.send({ event: 'w', actor: 'y', labels: { level: '3' }, selector: 'level in (4,5)' });
        expect(await h.pendingIds()).toEqual([x.id, y.id].sort());
        const group = await matched(x);
        expect(group.members).toEqual([
          { actor: 'x', payload: null, labels: { actor: 'x', level: '5' }, stage: 1 },
          { actor: 'y', payload: null, labels: { actor: 'y', level: '3' } },
        ]);
        expect(await matched(y)).toEqual(group);
        expect((x.settledAt ?? 0) - started).toBeGreaterThanOrEqual(after - CLOCK_SLACK_MS);
      });

      it('never widens one-sidedly: the other side must still accept the widened request', async () => {
        const h = await harness();
        const x = h.send({ event: 'w', actor: 'x', labels: { level: '5' }, selector: 'level=9', widen: '50ms:' });
        const y = h.send({ event: 'w', actor: 'y', labels: { level: '3' }, selector: 'level=3' });
        await h.stageReached(x, 1);
        expect(await h.pendingIds()).toEqual([x.id, y.id].sort());
        const entry = (await h.hub.stats()).w?.x?.[x.id];
        expect(entry?.stage).toBe(1);
        expect(entry?.selector).toBe('actor != x');
        expect(entry?.params.widen).toEqual([{ after: '50ms', selector: 'actor != x' }]);
        expect([x.settled, y.settled]).toEqual([undefined, undefined]);
      });

      it('keeps the arrival order: an older request widened later is chosen before a younger one widened earlier', async () => {
        const h = await harness();
        // Two guests of one actor name (so one class once both widened) wait for hosts; the older one widens last.
        const guest = (payload: string, after: string): Sent => h.send({
          event: 'w', actor: 'g', payload, labels: { role: 'guest' }, selector: 'role=nobody', widen: [{ after, selector: 'role=host' }],
        });
        const old = guest('old', '250ms');
        const young = guest('young', '50ms');
        await Promise.all([h.stageReached(old, 1), h.stageReached(young, 1)]);
        expect(await h.pendingIds()).toEqual([old.id, young.id].sort());
        const host = h.send({ event: 'w', actor: 'host', labels: { role: 'host' }, selector: 'role=guest' });
        expect((await matched(host)).members.map((m) => m.payload)).toEqual(['old', null]);
        const second = h.send({ event: 'w', actor: 'host2', labels: { role: 'host' }, selector: 'role=guest' });
        expect((await matched(second)).members.map((m) => m.payload)).toEqual(['young', null]);
      });

      it('meets a mate that already waits at once when the stage changes, members in arrival order', async () => {
        const h = await harness();
        const y = h.send({ event: 'w', actor: 'y', labels: { level: '2' } });
        const x = h.send({ event: 'w', actor: 'x', labels: { level: '8' }, selector: 'level>7', widen: ['40ms:level>5', '80ms:level>1'] });
        const group = await matched(x);
        expect(group.members.map((m) => [m.actor, m.stage])).toEqual([['y', undefined], ['x', 2]]);
        expect(await matched(y)).toEqual(group);
      });

      it('never offers a withdrawn request again when its stage comes', async () => {
        const h = await harness();
        const leaving = new AbortController();
        const x = h.send({ event: 'w', actor: 'x', selector: 'nobody', widen: '60ms:' }, { signal: leaving.signal });
        expect(await h.pendingIds()).toEqual([x.id]);
        leaving.abort(new Error('x went away'));
        await failed(x);
        // Past the stage x would have reached: nothing may bring it back.
        await elapse(120);
        const y = h.send({ event: 'w', actor: 'y' });
        expect(await h.pendingIds()).toEqual([y.id]);
        expect(y.settled).toBeUndefined();
      });

      it('widens a range request: a widened request can complete a lingering group', async () => {
        const h = await harness();
        const spec = { mates: '1..2', linger: '60s' } as const;
        const a = h.send({ event: 'l', actor: 'a', labels: { tier: 'gold' }, selector: 'tier=gold', ...spec });
        const b = h.send({ event: 'l', actor: 'b', labels: { tier: 'gold' }, selector: 'tier=gold', ...spec });
        const c = h.send({ event: 'l', actor: 'c', labels: { tier: 'gold' }, selector: 'tier in (gold,silver)', widen: '40ms:', ...spec });
        // a, b and c are already a possible group (c is gold); a MAX+1 = 3 group forms at once.
        expect(actorsOf(await matched(c))).toEqual(['a', 'b', 'c']);
        expect(actorsOf(await matched(a))).toEqual(['a', 'b', 'c']);
        expect(b.settled?.ok).toBe(true);
        const d = h.send({ event: 'l', actor: 'd', labels: { tier: 'silver' }, selector: 'tier=gold', ...spec });
        const e = h.send({ event: 'l', actor: 'e', labels: { tier: 'gold' }, selector: 'tier in (gold,silver)', ...spec });
        const f = h.send({ event: 'l', actor: 'f', labels: { tier: 'gold' }, selector: 'tier=gold', widen: '80ms:tier in (gold,silver)', ...spec });
        // d, e and f linger in a window of a minute (f turns silver d down); when f widens, they are a full group.
        const group = await matched(f);
        expect(group.members.map((m) => [m.actor, m.stage])).toEqual([['d', undefined], ['e', undefined], ['f', 1]]);
        expect(await matched(d)).toEqual(group);
        expect(await matched(e)).toEqual(group);
      });

      it('applies a timeout while a request waits for its next stage', async () => {
        const h = await harness();
        const x = h.send({ event: 'w', actor: 'x', selector: 'nobody', widen: '30s:' }, { timeoutMs: 40 });
        expect(codeOf(await failed(x))).toBe('timeout');
        expect(await h.pendingIds()).toEqual([]);
      });

      it('shows stage 0 and the original selector in stats before the first stage', async () => {
        const h = await harness();
        const x = h.send({ event: 'w', actor: 'x', selector: 'level=5', widen: [{ after: 30, selector: 'level>2' }, { after: '1m', selector: '' }] });
        const entry = (await h.hub.stats()).w?.x?.[x.id];
        expect(entry).toEqual({
          params: {
            event: 'w', actor: 'x', payload: null, labels: { actor: 'x' }, selector: 'level=5', mates: 1,
            widen: [{ after: '30s', selector: 'level>2' }, { after: '60s', selector: 'actor != x' }],
          },
          created_at: expect.any(String),
          stage: 0,
          selector: 'level=5',
        });
      });
    });

    it('leaves no window or stage timer running once the hub is closed', async () => {
      const h = await harness();
      const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      await h.pendingIds();
      const before = timers();
      const sent = [
        h.send({ event: 'lobby', actor: 'a', mates: '1..3', linger: '60s' }),
        h.send({ event: 'lobby', actor: 'b', mates: '1..3', linger: '60s' }),
        h.send({ event: 'w', actor: 'x', selector: 'nobody', widen: ['30s:level>1', '60s:'] }),
      ];
      expect(await h.pendingIds()).toEqual(sent.map((s) => s.id).sort());
      await h.hub.close();
      for (const s of sent) expect(codeOf(await failed(s))).toBe('shutting_down');
      expect(timers()).toBeLessThanOrEqual(before);
    });

    it('agrees with a brute-force model on random sequences of sends and withdrawals', async () => {
      const sendStep = fc.record({
        kind: fc.constant('send' as const),
        // Mostly one event and small groups, so compatible backlogs (where the rules differ) build up.
        event: fc.constantFrom('e1', 'e1', 'e1', 'e2'),
        actor: fc.constantFrom('a', 'b', 'c'),
        mates: fc.constantFrom(1, 1, 2, 2, 3),
        labels: fc.nat({ max: MODEL_LABEL_SETS.length - 1 }),
        // The default and the accept-anyone selector most often: they build the backlogs where cliques differ.
        selector: fc.oneof(fc.constantFrom(0, 1), fc.nat({ max: MODEL_SELECTORS.length - 1 })),
      });
      const withdrawStep = fc.record({
        kind: fc.constant('withdraw' as const),
        pick: fc.nat(),
        reason: fc.constantFrom('aborted', 'timeout'),
      });
      const steps = fc.array(fc.oneof({ arbitrary: sendStep, weight: 4 }, { arbitrary: withdrawStep, weight: 1 }), {
        minLength: 1, maxLength: 40,
      });
      await fc.assert(
        fc.asyncProperty(steps, async (plan) => {
          const h = await harness();
          const model = new MatchModel();
          const live = new Map<number, { sent: Sent; controller: AbortController }>();
          const inGroup = new Map<number, Match>();
          const withdrawn = new Set<number>();
          let next = 0;
          const idOf = (n: number): string => live.get(n)?.sent.id ?? '';
          for (const step of plan) {
            if (step.kind === 'send') {
              const labelSet = MODEL_LABEL_SETS[step.labels] as ModelLabels;
              const selector = MODEL_SELECTORS[step.selector] as (typeof MODEL_SELECTORS)[number];
              const req: ModelRequest = {
                n: next++, event: step.event, actor: step.actor, mates: step.mates,
                labels: { ...labelSet, actor: step.actor }, selector,
              };
              const controller = new AbortController();
              const params: SendParams = { event: req.event, actor: req.actor, mates: req.mates, labels: { ...labelSet }, payload: req.n };
              if (selector.text !== undefined) params.selector = selector.text;
              live.set(req.n, { sent: h.send(params, { signal: controller.signal }), controller });
              const group = model.arrive(req);
              expect(await h.pendingIds()).toEqual(model.pending.map((p) => idOf(p.n)).sort());
              if (group !== undefined) {
                const expected = {
                  payloads: Object.fromEntries(group.map((m) => [m.actor, m.n as JsonValue])),
                  members: group.map((m) => ({ actor: m.actor, payload: m.n, labels: m.labels })),
                };
                for (const member of group) {
                  const result = await matched(live.get(member.n)?.sent as Sent);
                  expect(result).toEqual(expected);
                  expect(inGroup.has(member.n)).toBe(false);
                  inGroup.set(member.n, result);
                }
              }
            } else {
              const target = model.pending[step.pick % Math.max(1, model.pending.length)];
              if (target === undefined) continue;
              const entry = live.get(target.n);
              const reason = new Error(step.reason);
              entry?.controller.abort(reason);
              model.withdraw(target.n);
              withdrawn.add(target.n);
              expect(await failed(entry?.sent as Sent)).toBe(reason);
              expect(await h.pendingIds()).toEqual(model.pending.map((p) => idOf(p.n)).sort());
            }
            // Invariant: only requests the model grouped or withdrew have settled.
            for (const [n, { sent }] of live) {
              if (sent.settled === undefined) continue;
              expect(sent.settled.ok ? inGroup.has(n) : withdrawn.has(n)).toBe(true);
            }
          }
          const stillPending = model.pending.map((p) => live.get(p.n)?.sent as Sent);
          await h.hub.close();
          for (const sent of stillPending) expect(codeOf(await failed(sent))).toBe('shutting_down');
          for (const n of withdrawn) expect(inGroup.has(n)).toBe(false);
        }),
        { numRuns: 150 },
      );
    });
  });
}
