// The hub beyond the store contract: options, lifecycle events, limits, asynchronous and failing stores.
import { isNetsyncError, NetsyncError } from '../../lib/errors';
import { Netsync, waitFor, type SendSink } from '../../lib/netsync';
import { MemoryStore } from '../../lib/stores/memory';
import type { MatcherStore } from '../../lib/stores/types';
import type { Match } from '../../lib/types';
import { AsyncStore } from '../helpers/async-store';

const hubs: Netsync[] = [];
function hubOf(options?: ConstructorParameters<typeof Netsync>[0]): Netsync {
  const hub = new Netsync(options);
  hubs.push(hub);
  return hub;
}
afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.close()));
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await rejection(promise);
  return isNetsyncError(error) ? error.code : `not a NetsyncError: ${String(error)}`;
}

describe('Netsync options', () => {
  it('defaults to a MemoryStore, 64 mates and 100000 pending', async () => {
    const hub = hubOf();
    expect(hub.maxMates).toBe(64);
    expect(hub.maxPending).toBe(100_000);
    const [a, b] = await Promise.all([hub.send({ event: 'e', actor: 'A' }), hub.send({ event: 'e', actor: 'B' })]);
    expect(a).toBe(b);
  });

  it('rejects bad options at construction, naming the option', () => {
    for (const maxMates of [-1, 1.5, Number.NaN, '3' as unknown as number]) {
      expect(() => new Netsync({ maxMates })).toThrow(/maxMates/);
    }
    for (const maxPending of [0, -5, 2.5]) expect(() => new Netsync({ maxPending })).toThrow(/maxPending/);
    expect(() => new Netsync({ store: {} as MatcherStore })).toThrow(/store/);
    expect(() => new Netsync({ maxMates: 0, maxPending: Infinity })).not.toThrow();
  });

  it('applies maxMates to every send', async () => {
    const hub = hubOf({ maxMates: 2 });
    expect(await codeOf(hub.send({ event: 'e', actor: 'a', mates: 3 }))).toBe('bad_request');
    expect(hub.pendingCount).toBe(0);
  });
});

describe('Netsync.send', () => {
  it('rejects instead of throwing, whatever it is given', async () => {
    const hub = hubOf();
    const sent = hub.send(null as never);
    expect(sent).toBeInstanceOf(Promise);
    expect(await codeOf(sent)).toBe('bad_request');
    expect(await codeOf(hub.send({ event: 'e', actor: 'a', selector: '(' }))).toBe('invalid_selector');
    expect(await codeOf(hub.send({ event: 'e', actor: 'a' }, { timeoutMs: -1 }))).toBe('bad_request');
    expect(await codeOf(hub.send({ event: 'e', actor: 'a' }, { timeoutMs: Number.NaN }))).toBe('bad_request');
  });

  it('answers overloaded past maxPending, with a retry hint', async () => {
    const hub = hubOf({ maxPending: 2 });
    const waiting = [hub.send({ event: 'e', actor: 'A', selector: 'x' }), hub.send({ event: 'e', actor: 'B', selector: 'x' })];
    expect(hub.pendingCount).toBe(2);
    const error = await rejection(hub.send({ event: 'e', actor: 'C', selector: 'x' }));
    expect(error).toBeInstanceOf(NetsyncError);
    expect((error as NetsyncError).code).toBe('overloaded');
    expect((error as NetsyncError).retryAfter).toBeGreaterThan(0);
    // mates: 0 never waits, so it is not limited.
    await expect(hub.send({ event: 'e', actor: 'D', mates: 0 })).resolves.toBeDefined();
    await hub.close();
    for (const w of waiting) expect(await codeOf(w)).toBe('shutting_down');
    expect(hub.pendingCount).toBe(0);
  });

  it('gives ids unique across hubs that share a store, and pairs across them', async () => {
    const store = new MemoryStore();
    const one = hubOf({ store });
    const two = hubOf({ store });
    const ids: string[] = [];
    one.on('pending', (req) => ids.push(req.id));
    two.on('pending', (req) => ids.push(req.id));
    const a = one.send({ event: 'e', actor: 'A', payload: 1 });
    const b = two.send({ event: 'e', actor: 'B', payload: 2 });
    const [ma, mb] = await Promise.all([a, b]);
    expect(ma).toEqual(mb);
    expect(ma.payloads).toEqual({ A: 1, B: 2 });
    expect(new Set(ids).size).toBe(2);
  });

  it('withdraws from the store after an offer still in flight', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const controller = new AbortController();
    const sent = hub.send({ event: 'e', actor: 'A' }, { signal: controller.signal });
    controller.abort(new Error('gone'));
    expect(hub.pendingCount).toBe(0);
    expect(await rejection(sent)).toEqual(new Error('gone'));
    expect(await hub.stats()).toEqual({});
    expect(store.calls).toEqual(['offer A', 'withdraw true']);
  });

  it('still settles the others when a withdrawal comes too late', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const a = hub.send({ event: 'e', actor: 'A' }, { signal: AbortSignal.abort('x') });
    expect(await rejection(a)).toBe('x');
    const controller = new AbortController();
    const b = hub.send({ event: 'e', actor: 'B' }, { signal: controller.signal });
    await hub.stats();
    store.refuseWithdrawals = true;
    store.held = [];
    const withdrawn: string[] = [];
    hub.on('withdrawn', (req, reason) => withdrawn.push(`${req.params.actor} ${reason}`));
    const c = hub.send({ event: 'e', actor: 'C' });
    // B's caller goes away while the group {B, C} is on its way.
    await hub.stats();
    controller.abort(new Error('B left'));
    expect(await rejection(b)).toEqual(new Error('B left'));
    await hub.stats();
    expect(store.calls.at(-1)).toBe('withdraw false');
    store.release();
    const match = await c;
    expect(match.members.map((m) => m.actor)).toEqual(['B', 'C']);
    expect(withdrawn).toEqual(['B aborted']);
  });

  it('gives a timed-out caller the group that took it before its withdrawal, never a 504 its mates do not see', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      store.held = [];
      const outcome: string[] = [];
      const a = hub.send({ event: 'e', actor: 'A' }, { timeoutMs: 50 });
      void a.then(() => outcome.push('A matched'), (err: unknown) => outcome.push(`A ${String(err)}`));
      const b = hub.send({ event: 'e', actor: 'B' });
      await hub.stats();
      // The group {A, B} formed in the store but is still on its way to this hub when A's timer fires.
      store.refuseWithdrawals = true;
      jest.advanceTimersByTime(50);
      const [ma, mb] = await Promise.all([a, b]);
      expect(ma).toBe(mb);
      expect(outcome).toEqual(['A matched']);
      expect(store.calls).toEqual(['offer A', 'offer B', 'withdraw false']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers timeout only once the store confirmed the withdrawal', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const withdrawn: string[] = [];
    hub.on('withdrawn', (req, reason) => withdrawn.push(`${req.params.actor} ${reason}`));
    const error = await rejection(hub.send({ event: 'e', actor: 'A' }, { timeoutMs: 1 }));
    expect(isNetsyncError(error) && error.code).toBe('timeout');
    expect(store.calls).toEqual(['offer A', 'withdraw true']);
    expect(withdrawn).toEqual(['A timeout']);
  });

  it('on close, gives each waiter the group that already took it, and shutting_down to the rest', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    store.held = [];
    const a = hub.send({ event: 'e', actor: 'A' });
    const b = hub.send({ event: 'e', actor: 'B' });
    const c = hub.send({ event: 'f', actor: 'C' });
    await hub.stats();
    store.refuseWithdrawals = true;
    await hub.close();
    const [ma, mb] = await Promise.all([a, b]);
    expect(ma).toBe(mb);
    expect(ma.members.map((m) => m.actor)).toEqual(['A', 'B']);
    expect(await codeOf(c)).toBe('shutting_down');
  });

  it('rejects with store_unavailable when the store fails an offer, and forgets the waiter', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const withdrawn: string[] = [];
    hub.on('withdrawn', (req, reason) => withdrawn.push(`${req.params.actor} ${reason}`));
    store.failOffers = new Error('connection refused');
    const error = await rejection(hub.send({ event: 'e', actor: 'A' }));
    expect(isNetsyncError(error) && error.code).toBe('store_unavailable');
    expect((error as Error).message).toContain('connection refused');
    expect(hub.pendingCount).toBe(0);
    expect(withdrawn).toEqual(['A lost']);
  });

  it('turns a store that throws instead of rejecting into store_unavailable', async () => {
    const store = new MemoryStore();
    store.offer = () => {
      throw new Error('socket closed');
    };
    const hub = hubOf({ store });
    expect(await codeOf(hub.send({ event: 'e', actor: 'A' }))).toBe('store_unavailable');
    expect(hub.pendingCount).toBe(0);
    expect(await hub.stats()).toEqual({});
  });

  it('treats a timeout longer than a timer can count as none', async () => {
    const hub = hubOf();
    jest.useFakeTimers();
    try {
      const sent = hub.send({ event: 'e', actor: 'A' }, { timeoutMs: 2 ** 32 });
      // Node fires an overflowing timer at once, so the hub must not arm one at all.
      expect(jest.getTimerCount()).toBe(0);
      jest.runAllTimers();
      expect(hub.pendingCount).toBe(1);
      await hub.close();
      expect(await codeOf(sent)).toBe('shutting_down');
    } finally {
      jest.useRealTimers();
    }
  });

  it('settles every hub of a group even when a match listener throws', async () => {
    const store = new MemoryStore();
    const one = hubOf({ store });
    const two = hubOf({ store });
    const reported: unknown[] = [];
    one.on('error', (err) => reported.push(err));
    one.on('match', () => {
      throw new Error('listener bug');
    });
    const a = two.send({ event: 'e', actor: 'A' });
    const b = one.send({ event: 'e', actor: 'B' });
    const [ma, mb] = await Promise.all([a, b]);
    expect(ma.members.map((m) => m.actor)).toEqual(['A', 'B']);
    expect(mb).toEqual(ma);
    expect(reported).toEqual([new Error('listener bug')]);
  });

  it('rejects the waiters a store reports lost', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const ids: string[] = [];
    hub.on('pending', (req) => ids.push(req.id));
    const withdrawn: string[] = [];
    hub.on('withdrawn', (req, reason) => withdrawn.push(`${req.params.actor} ${reason}`));
    const a = hub.send({ event: 'e', actor: 'A', selector: 'x' });
    const b = hub.send({ event: 'e', actor: 'B', selector: 'x' });
    await hub.stats();
    const lost = new NetsyncError('store_unavailable', 'the store is unavailable: lease expired');
    store.lose([ids[0] as string, 'someone-else'], lost);
    expect(await rejection(a)).toBe(lost);
    expect(withdrawn).toEqual(['A lost']);
    expect(hub.pendingCount).toBe(1);
    await hub.close();
    expect(await codeOf(b)).toBe('shutting_down');
  });
});

describe('Netsync events', () => {
  it('emits pending before match, one match per group with the result every member gets', async () => {
    const hub = hubOf();
    const log: string[] = [];
    const matches: Match[] = [];
    hub.on('pending', (req) => log.push(`pending ${req.params.actor}`));
    hub.on('match', (group, match) => {
      log.push(`match ${group.members.map((m) => m.actor).join(',')}`);
      matches.push(match);
    });
    const a = hub.send({ event: 'e', actor: 'A', mates: 2 });
    const b = hub.send({ event: 'e', actor: 'B', mates: 2 });
    const c = hub.send({ event: 'e', actor: 'C', mates: 2 });
    const results = await Promise.all([a, b, c]);
    expect(log).toEqual(['pending A', 'pending B', 'pending C', 'match A,B,C']);
    for (const result of results) expect(result).toBe(matches[0]);
    expect(Object.getPrototypeOf(matches[0]?.payloads)).toBeNull();
  });

  it('emits withdrawn with the reason: aborted, timeout, closed', async () => {
    const hub = hubOf();
    const withdrawn: string[] = [];
    hub.on('withdrawn', (req, reason) => withdrawn.push(`${req.params.actor} ${reason}`));
    const controller = new AbortController();
    const a = hub.send({ event: 'e', actor: 'A', selector: 'x' }, { signal: controller.signal });
    controller.abort();
    await rejection(a);
    expect(await codeOf(hub.send({ event: 'e', actor: 'T', selector: 'x' }, { timeoutMs: 5 }))).toBe('timeout');
    const c = hub.send({ event: 'e', actor: 'C', selector: 'x' });
    await hub.close();
    expect(await codeOf(c)).toBe('shutting_down');
    expect(withdrawn).toEqual(['A aborted', 'T timeout', 'C closed']);
  });

  it('reports mates: 0 as pending and matched alone', async () => {
    const hub = hubOf();
    const log: string[] = [];
    hub.on('pending', (req) => log.push(`pending ${req.params.actor}`));
    hub.on('match', (group) => log.push(`match ${group.members.length}`));
    await hub.send({ event: 'e', actor: 'A', mates: 0 });
    expect(log).toEqual(['pending A', 'match 1']);
  });
});

describe('Netsync.stats and close', () => {
  it('keeps event and actor names like __proto__ as plain keys', async () => {
    const hub = hubOf();
    void hub.send({ event: '__proto__', actor: 'constructor', selector: 'x' }).catch(() => undefined);
    void hub.send({ event: 'constructor', actor: '__proto__', selector: 'x' }).catch(() => undefined);
    const tree = await hub.stats();
    expect(Object.keys(tree).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.keys(tree.__proto__ ?? {})).toEqual(['constructor']);
    expect(Object.keys(tree.constructor ?? {})).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(tree))).toHaveProperty(['constructor', '__proto__']);
  });

  it('closes once, then closes the store', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const first = hub.close();
    expect(hub.close()).toBe(first);
    await first;
    expect(hub.closed).toBe(true);
    expect(store.calls).toEqual(['close']);
  });
});

describe('Netsync.stats under load', () => {
  it('answers while arrivals keep coming: it waits only for the store calls that began before it', async () => {
    const store = new AsyncStore();
    // Each offer takes two ticks and a new one starts every tick, so some offer is always in flight.
    const offer = store.offer.bind(store);
    store.offer = async (req) => {
      await new Promise((resolve) => setImmediate(resolve));
      return offer(req);
    };
    const hub = hubOf({ store });
    void hub.send({ event: 'load', actor: 'first', selector: 'never' }).catch(() => undefined);
    let answered = false;
    const stats = hub.stats().then((tree) => {
      answered = true;
      return tree;
    });
    // A wait for "no call in flight" would never end here.
    let sent = 0;
    while (!answered && sent < 2000) {
      void hub.send({ event: 'load', actor: `a${sent++}`, selector: 'never' }).catch(() => undefined);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(answered).toBe(true);
    expect(sent).toBeLessThan(2000);
    await stats;
  });

  it('shows an offer made before it, even on a store that answers later', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    void hub.send({ event: 'e', actor: 'A', selector: 'never' }).catch(() => undefined);
    const tree = await hub.stats();
    expect(Object.keys(tree.e ?? {})).toEqual(['A']);
  });

  it('reads the store anyway when an earlier call never answers', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    let release: (() => void) | undefined;
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    const offer = store.offer.bind(store);
    store.offer = async (req) => {
      await stuck;
      return offer(req);
    };
    void hub.send({ event: 'e', actor: 'A' }).catch(() => undefined);
    expect(await hub.stats()).toEqual({});
    release?.();
  });
});

describe('Netsync listeners that throw', () => {
  function failing(): () => never {
    return () => {
      throw new Error('listener bug');
    };
  }

  it('a throwing withdrawn listener leaves no ghost: the departed request is out of the store first', async () => {
    const hub = hubOf();
    const reported: unknown[] = [];
    hub.on('error', (err) => reported.push(err));
    hub.on('withdrawn', failing());
    const gone = new AbortController();
    const a = hub.send({ event: 'e', actor: 'A' }, { signal: gone.signal });
    gone.abort(new Error('left'));
    expect(await rejection(a)).toEqual(new Error('left'));
    const b = hub.send({ event: 'e', actor: 'B' });
    const tree = await hub.stats();
    expect(Object.keys(tree.e ?? {})).toEqual(['B']);
    expect(reported).toEqual([new Error('listener bug')]);
    const c = hub.send({ event: 'e', actor: 'C' });
    const [mb, mc] = await Promise.all([b, c]);
    expect(mb.members.map((m) => m.actor)).toEqual(['B', 'C']);
    expect(mc).toBe(mb);
  });

  it('a throwing pending listener neither keeps the request from its store nor leaks a pending slot', async () => {
    const hub = hubOf({ maxPending: 2 });
    const reported: unknown[] = [];
    hub.on('error', (err) => reported.push(err));
    hub.on('pending', failing());
    const a = hub.send({ event: 'e', actor: 'A' });
    const tree = await hub.stats();
    expect(Object.keys(tree.e ?? {})).toEqual(['A']);
    const b = hub.send({ event: 'e', actor: 'B' });
    await Promise.all([a, b]);
    expect(hub.pendingCount).toBe(0);
    // Both slots are free again: two more requests may wait at once (an orphaned waiter would hold one).
    const c = hub.send({ event: 'f', actor: 'C' });
    const d = hub.send({ event: 'f', actor: 'D' });
    const [mc, md] = await Promise.all([c, d]);
    expect(md).toBe(mc);
    expect(reported).toHaveLength(4);
  });

  it('every listener still runs when an earlier one throws, and once-listeners run once', async () => {
    const hub = hubOf();
    hub.on('error', () => undefined);
    const heard: string[] = [];
    hub.on('match', failing());
    hub.once('match', () => heard.push('once'));
    hub.on('match', () => heard.push('always'));
    await Promise.all([hub.send({ event: 'e', actor: 'A' }), hub.send({ event: 'e', actor: 'B' })]);
    await Promise.all([hub.send({ event: 'e', actor: 'A' }), hub.send({ event: 'e', actor: 'B' })]);
    expect(heard).toEqual(['once', 'always', 'always']);
  });

  it('without an error listener, a listener\'s exception becomes a process warning, not a crash', async () => {
    const hub = hubOf();
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      hub.on('withdrawn', failing());
      hub.on('pending', failing());
      const sent = hub.send({ event: 'e', actor: 'A' });
      await hub.close();
      expect(await codeOf(sent)).toBe('shutting_down');
      expect(warn.mock.calls.map(([message, options]) => [message, (options as { type?: string }).type]))
        .toEqual([['listener bug', 'NetsyncListenerError'], ['listener bug', 'NetsyncListenerError']]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('waitFor (the router\'s way in)', () => {
  /** A sink that records what it hears, in order. */
  function recorder(): SendSink & { heard: Array<['matched', Match] | ['failed', unknown]> } {
    const heard: Array<['matched', Match] | ['failed', unknown]> = [];
    return {
      heard,
      matched: (match) => heard.push(['matched', match]),
      failed: (error) => heard.push(['failed', error]),
    };
  }

  it('delivers the group to each member\'s sink, the same Match as a promise send gets', async () => {
    const hub = hubOf();
    const a = recorder();
    expect(waitFor(hub, { event: 'e', actor: 'a', payload: 1 }, undefined, a)).toBeDefined();
    expect(hub.pendingCount).toBe(1);
    const b = await hub.send({ event: 'e', actor: 'b', payload: 2 });
    expect(a.heard).toEqual([['matched', b]]);
    expect(a.heard[0]?.[1]).toBe(b);
    expect(hub.pendingCount).toBe(0);
  });

  it('answers mates 0 before it returns', () => {
    const hub = hubOf();
    const sink = recorder();
    waitFor(hub, { event: 'e', actor: 'a', payload: 'p', mates: 0 }, undefined, sink);
    expect(sink.heard).toEqual([['matched', { payloads: { a: 'p' }, members: [{ actor: 'a', payload: 'p', labels: { actor: 'a' } }] }]]);
  });

  it('cancel withdraws at once, tells the sink once, and the request never matches', async () => {
    const hub = hubOf();
    const sink = recorder();
    const withdrawn: string[] = [];
    hub.on('withdrawn', (req, reason) => withdrawn.push(`${req.params.actor}:${reason}`));
    const pending = waitFor(hub, { event: 'e', actor: 'a' }, undefined, sink);
    const reason = new Error('client gone');
    pending?.cancel(reason);
    pending?.cancel(new Error('again'));
    expect(sink.heard).toEqual([['failed', reason]]);
    expect(withdrawn).toEqual(['a:aborted']);
    expect(hub.pendingCount).toBe(0);
    expect(await hub.stats()).toEqual({});
    // b must now wait: a is gone.
    const b = hub.send({ event: 'e', actor: 'b' }, { timeoutMs: 10 });
    expect(await codeOf(b)).toBe('timeout');
  });

  it('reports a timeout to the sink', async () => {
    const hub = hubOf();
    let failed!: (error: unknown) => void;
    const outcome = new Promise<unknown>((resolve) => {
      failed = resolve;
    });
    waitFor(hub, { event: 'e', actor: 'a' }, 5, { matched: () => failed(new Error('matched')), failed });
    const error = await outcome;
    expect(isNetsyncError(error) ? error.code : error).toBe('timeout');
    expect(hub.pendingCount).toBe(0);
  });

  it('throws what send would reject with when the request cannot wait', async () => {
    const hub = hubOf({ maxPending: 1 });
    const sink = recorder();
    const codeOfThrow = (params: Parameters<typeof waitFor>[1]): string | undefined => {
      try {
        waitFor(hub, params, undefined, sink);
      } catch (error) {
        return isNetsyncError(error) ? error.code : String(error);
      }
      return undefined;
    };
    expect(codeOfThrow({ event: '', actor: 'a' })).toBe('bad_request');
    expect(codeOfThrow({ event: 'e', actor: 'a', selector: 'a in (' })).toBe('invalid_selector');
    expect(codeOfThrow({ event: 'e', actor: 'a' })).toBeUndefined();
    expect(codeOfThrow({ event: 'e2', actor: 'b' })).toBe('overloaded');
    await hub.close();
    expect(sink.heard).toEqual([['failed', expect.objectContaining({ code: 'shutting_down' })]]);
    expect(codeOfThrow({ event: 'e', actor: 'c' })).toBe('shutting_down');
  });

  it('returns undefined for an object that is not a hub of this copy of the package', () => {
    const hub = hubOf();
    const lookalike = { send: hub.send.bind(hub), stats: hub.stats.bind(hub) } as unknown as Netsync;
    expect(waitFor(lookalike, { event: 'e', actor: 'a' }, undefined, recorder())).toBeUndefined();
    expect(hub.pendingCount).toBe(0);
    expect(Netsync.owns(hub)).toBe(true);
    expect(Netsync.owns(lookalike)).toBe(false);
  });
});

describe('Netsync with mate ranges and widening', () => {
  it('refuses a range or widen on a store that does not declare support, and still serves exact counts', async () => {
    const store = new AsyncStore();
    const hub = hubOf({ store });
    const range = await rejection(hub.send({ event: 'e', actor: 'a', mates: '1..3' }));
    expect(isNetsyncError(range) && range.code === 'bad_request' && /does not support mates ranges/.test(range.message)).toBe(true);
    const widen = await rejection(hub.send({ event: 'e', actor: 'a', widen: '1s:' }));
    expect(isNetsyncError(widen) && widen.code === 'bad_request' && /does not support widen/.test(widen.message)).toBe(true);
    expect(store.calls.filter((c) => c.startsWith('offer'))).toEqual([]);
    const [a, b] = await Promise.all([hub.send({ event: 'e', actor: 'a', mates: '1..1' }), hub.send({ event: 'e', actor: 'b' })]);
    expect(a).toBe(b);
  });

  it('sets no timer for a request without stages or timeout, and one per request that widens', async () => {
    const hub = hubOf();
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const plain = Array.from({ length: 5 }, (_, i) => hub.send({ event: 'e', actor: `p${i}`, selector: 'nobody' }));
    expect(timers()).toBe(before);
    const widening = Array.from({ length: 5 }, (_, i) => hub.send({ event: 'w', actor: `w${i}`, selector: 'nobody', widen: ['1m:x=1', '2m:'] }));
    expect(timers()).toBe(before + 5);
    // A waiter that settles takes its stage timer with it.
    const controller = new AbortController();
    const leaving = hub.send({ event: 'w', actor: 'gone', selector: 'nobody', widen: '1m:' }, { signal: controller.signal });
    expect(timers()).toBe(before + 6);
    controller.abort(new Error('gone'));
    await rejection(leaving);
    expect(timers()).toBe(before + 5);
    await hub.close();
    for (const p of [...plain, ...widening]) expect(await codeOf(p)).toBe('shutting_down');
    expect(timers()).toBe(before);
  });

  it('reports a lingering window with its own requests on the lingering event', async () => {
    const hub = hubOf();
    const seen: string[][] = [];
    hub.on('lingering', (reqs, window) => {
      seen.push(reqs.map((r) => r.params.actor));
      expect(window.spec).toEqual({ min: 1, max: 3, lingerMs: 60_000 });
    });
    void hub.send({ event: 'l', actor: 'a', mates: '1..3', linger: '1m' }).catch(() => undefined);
    void hub.send({ event: 'l', actor: 'b', mates: '1..3', linger: '1m' }).catch(() => undefined);
    await hub.stats();
    expect(seen).toEqual([['a', 'b']]);
  });
});
