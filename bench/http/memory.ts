// Memory: RSS of fresh server processes, idle and while each holds 10,000 never-matching requests open.
import type { ChildPrograms } from './build';
import { rssBytes, sleep, type Server } from './processes';
import { heldBy, mb, park, startExpress, startNetsync, until, waitingIn, type HttpOptions } from './suite';

/** RSS of one server process, idle and with the waiters held. */
export interface MemoryRow {
  readonly name: string;
  /** How the waiters were spread over events. */
  readonly shape: string;
  readonly idleRss: number;
  readonly loadedRss: number;
  readonly waiters: number;
  readonly perWaiter: number;
}

/** The memory rows of netsync: waiters spread one per event, or all in one event. */
export const MEMORY_OWN_EVENTS = 'netsync (own events)';
export const MEMORY_SHARED_EVENT = 'netsync (one event)';
/**
 * The floor the targets read: Express holding each request open, served as the standalone server is
 * (`expressServerOptions`), so the two differ by netsync alone.
 */
export const MEMORY_FLOOR = 'hold-open Express';
/** The same app served by `app.listen`, as most apps are: for reference (its requests are costlier to hold). */
export const MEMORY_FLOOR_LISTEN = 'hold-open Express (app.listen)';

const HELD_OPEN = 'no events: each request held open';
const ORDER = [MEMORY_FLOOR, MEMORY_FLOOR_LISTEN, MEMORY_OWN_EVENTS, MEMORY_SHARED_EVENT];

export interface MemoryReport {
  readonly rows: MemoryRow[];
  readonly notes: string[];
}

/**
 * The four processes side by side (RSS does not depend on timing): the two Express floors, and netsync with its
 * waiters in an event each (a bucket of its own each, the store's costliest spread) or all in one event (the
 * common shape: many callers of one event waiting for someone who is not there). Distinct actors and
 * `selector=role=ghost` throughout.
 */
export async function measureMemory(programs: ChildPrograms, options: HttpOptions, prefix: string, log: (line: string) => void): Promise<MemoryReport> {
  const rows: MemoryRow[] = [];
  const notes: string[] = [];
  const memoryOf = async (name: string, shape: string, srv: Server, event: string, eventPerWaiter: boolean, held: () => Promise<number>): Promise<void> => {
    await sleep(500);
    await held();
    const idleRss = rssBytes(srv.child.pid);
    const plan = { count: options.waiters, event, actors: 'distinct', eventPerWaiter, deadlineMs: 120000, confirm: false } as const;
    const parked = await park(programs, srv, plan, held);
    // RSS is read before asking /stats for the count, so the big /stats answer does not weigh on it.
    await sleep(options.quick ? 1000 : 2000);
    let loadedRss = rssBytes(srv.child.pid);
    const seen = await held();
    if (seen !== options.waiters) {
      const late = await until(held, options.waiters, 60000);
      if (late !== options.waiters) throw new Error(`memory: only ${late} of ${options.waiters} waiters reached ${name}`);
      loadedRss = rssBytes(srv.child.pid);
      notes.push(`memory (${name}): the waiters arrived late, so its RSS was read after /stats calls.`);
    }
    await parked.parker.stop();
    await srv.child.stop();
    const row = { name, shape, idleRss, loadedRss, waiters: options.waiters, perWaiter: (loadedRss - idleRss) / options.waiters };
    rows.push(row);
    log(`memory ${name.padEnd(30)} idle ${mb(idleRss)} MB, with ${row.waiters} waiters ${mb(loadedRss)} MB, ${(row.perWaiter / 1024).toFixed(2)} KB/waiter`);
  };
  const [floor, listen, own, shared] = await Promise.all([
    startExpress(programs, ['hold', 'prototyped'], 'hold-open Express app (served as netsync is)'),
    startExpress(programs, ['hold'], 'hold-open Express app (app.listen)'),
    startNetsync(options),
    startNetsync(options),
  ]);
  await Promise.all([
    memoryOf(MEMORY_FLOOR, HELD_OPEN, floor, `${prefix}hold`, true, () => heldBy(floor)),
    memoryOf(MEMORY_FLOOR_LISTEN, HELD_OPEN, listen, `${prefix}listen`, true, () => heldBy(listen)),
    memoryOf(MEMORY_OWN_EVENTS, 'one event per waiter', own, `${prefix}mem`, true, () => waitingIn(own, `${prefix}mem`, 'ghost')),
    memoryOf(MEMORY_SHARED_EVENT, 'one shared event', shared, `${prefix}one`, false, () => waitingIn(shared, `${prefix}one`, 'ghost')),
  ]);
  rows.sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));
  return { rows, notes };
}

/** A row against the floor, as the report's targets read it: `1.07× RSS, 1.10× per waiter`. */
export function againstFloor(row: MemoryRow, floor: MemoryRow): string {
  return `${(row.loadedRss / floor.loadedRss).toFixed(2)}× RSS, ${(row.perWaiter / floor.perWaiter).toFixed(2)}× per waiter`;
}

/** Console lines: each row but the floor, against it. */
export function memorySummary(rows: readonly MemoryRow[]): string[] {
  const floor = rows.find((r) => r.name === MEMORY_FLOOR);
  if (!floor) return ['memory: no floor measured'];
  return rows.filter((r) => r !== floor).map((r) => `${r.name}: ${mb(r.loadedRss)} MB with ${r.waiters} waiters (against the floor: ${againstFloor(r, floor)})`);
}
