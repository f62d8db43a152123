// Request timeouts kept by length: one timer per length, each request expired at its own deadline, in order.
import { Deadlines, type Timed } from '../../lib/deadlines';
import { Netsync } from '../../lib/netsync';
import { isNetsyncError } from '../../lib/errors';

interface Item extends Timed {
  readonly name: string;
}

function item(name: string): Item {
  return { name, deadline: 0, deadlinePrev: undefined, deadlineNext: undefined, deadlineQueue: undefined };
}

beforeEach(() => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('Deadlines', () => {
  it('runs one timer for many requests of one length and expires each at its own deadline, oldest first', () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<Item>((i) => expired.push(i.name));
    for (let i = 0; i < 1000; i++) deadlines.add(item(`a${i}`), 50);
    jest.advanceTimersByTime(20);
    deadlines.add(item('b'), 50);
    expect(jest.getTimerCount()).toBe(1);
    expect(deadlines.timers).toBe(1);
    jest.advanceTimersByTime(29);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(expired).toHaveLength(1000);
    expect(expired[0]).toBe('a0');
    expect(expired[999]).toBe('a999');
    jest.advanceTimersByTime(19);
    expect(expired).toHaveLength(1000);
    jest.advanceTimersByTime(1);
    expect(expired.slice(1000)).toEqual(['b']);
    expect(jest.getTimerCount()).toBe(0);
    expect(deadlines.timers).toBe(0);
  });

  it('keeps the others on time when the oldest is removed, and stops the timer when none is left', () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<Item>((i) => expired.push(i.name));
    const a = item('a');
    const b = item('b');
    const c = item('c');
    deadlines.add(a, 100);
    jest.advanceTimersByTime(10);
    deadlines.add(b, 100);
    jest.advanceTimersByTime(10);
    deadlines.add(c, 100);
    deadlines.remove(a);
    deadlines.remove(a);
    jest.advanceTimersByTime(80);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(10);
    expect(expired).toEqual(['b']);
    deadlines.remove(c);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual(['b']);
  });

  it('times each length on its own', () => {
    const expired: string[] = [];
    const deadlines = new Deadlines<Item>((i) => expired.push(i.name));
    deadlines.add(item('slow'), 300);
    deadlines.add(item('fast'), 100);
    deadlines.add(item('mid'), 200);
    expect(deadlines.timers).toBe(3);
    jest.advanceTimersByTime(300);
    expect(expired).toEqual(['fast', 'mid', 'slow']);
    expect(deadlines.timers).toBe(0);
  });

  it('lets an expiring request add and remove others of its own length', () => {
    const expired: string[] = [];
    const later = item('later');
    const again = item('again');
    const deadlines: Deadlines<Item> = new Deadlines<Item>((i) => {
      expired.push(i.name);
      if (i.name === 'first') {
        deadlines.remove(later);
        deadlines.add(again, 50);
      }
    });
    deadlines.add(item('first'), 50);
    jest.advanceTimersByTime(10);
    deadlines.add(later, 50);
    jest.advanceTimersByTime(40);
    expect(expired).toEqual(['first']);
    jest.advanceTimersByTime(100);
    expect(expired).toEqual(['first', 'again']);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('hub timeouts', () => {
  it('holds one timer for a backlog with one timeout, times each waiter out at its deadline, and leaves none behind', async () => {
    const hub = new Netsync();
    try {
      const outcomes: Promise<string>[] = [];
      const send = (actor: string): void => {
        outcomes.push(hub.send({ event: 'e', actor, selector: 'role=ghost' }, { timeoutMs: 600_000 }).then(
          () => `${actor} matched`,
          (err: unknown) => `${actor} ${isNetsyncError(err) ? err.code : String(err)}`,
        ));
      };
      for (let i = 0; i < 500; i++) send(`early${i}`);
      jest.advanceTimersByTime(1000);
      send('late');
      await hub.stats();
      expect(hub.pendingCount).toBe(501);
      expect(jest.getTimerCount()).toBe(1);
      jest.advanceTimersByTime(599_000);
      const early = await Promise.all(outcomes.slice(0, 500));
      expect(new Set(early.map((o) => o.replace(/\d+/, '')))).toEqual(new Set(['early timeout']));
      expect(hub.pendingCount).toBe(1);
      jest.advanceTimersByTime(999);
      await hub.stats();
      expect(hub.pendingCount).toBe(1);
      jest.advanceTimersByTime(1);
      expect(await outcomes[500]).toBe('late timeout');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      await hub.close();
    }
  });

  it('stops timing a waiter that matched or left, and runs no timer once none waits', async () => {
    const hub = new Netsync();
    try {
      const controller = new AbortController();
      const gone = hub.send({ event: 'e', actor: 'gone', selector: 'role=x' }, { timeoutMs: 50, signal: controller.signal });
      const a = hub.send({ event: 'pair', actor: 'a' }, { timeoutMs: 50 });
      const b = hub.send({ event: 'pair', actor: 'b' }, { timeoutMs: 50 });
      expect((await a).members.map((m) => m.actor)).toEqual(['a', 'b']);
      await b;
      controller.abort(new Error('left'));
      await expect(gone).rejects.toThrow('left');
      expect(hub.pendingCount).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
