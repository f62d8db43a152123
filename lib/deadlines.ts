// Request timeouts without a timer each: requests with one timeout length time out in the order they started.

/** A request whose timeout a `Deadlines` keeps; the fields are the queue's own. */
export interface Timed {
  /** When it times out (Date.now() time); set by `add`. */
  deadline: number;
  /** Its neighbours in the queue of its timeout length, and that queue; undefined when not queued. */
  deadlinePrev: Timed | undefined;
  deadlineNext: Timed | undefined;
  deadlineQueue: unknown;
}

/** The requests of one timeout length, oldest first, with one timer for the oldest. */
interface Queue {
  readonly ms: number;
  head: Timed | undefined;
  tail: Timed | undefined;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One timer per distinct timeout length instead of one per request: a long backlog of waiting requests
 * (10,000 with `timeout=600s`) then holds one timer, not 10,000. Requests with the same length time out in
 * the order they were added, as their own timers would have fired; each is handed to `expire` once due.
 */
export class Deadlines<T extends Timed> {
  readonly #queues = new Map<number, Queue>();
  readonly #expire: (item: T) => void;

  constructor(expire: (item: T) => void) {
    this.#expire = expire;
  }

  /** Time `item` out after `ms` milliseconds (a finite length a timer can count). */
  add(item: T, ms: number): void {
    let queue = this.#queues.get(ms);
    if (queue === undefined) {
      queue = { ms, head: undefined, tail: undefined, timer: undefined };
      this.#queues.set(ms, queue);
    }
    item.deadline = Date.now() + ms;
    item.deadlineQueue = queue;
    item.deadlinePrev = queue.tail;
    item.deadlineNext = undefined;
    if (queue.tail === undefined) queue.head = item;
    else queue.tail.deadlineNext = item;
    queue.tail = item;
    if (queue.timer === undefined) queue.timer = setTimeout(() => this.#due(queue), ms);
  }

  /** Stop timing `item` out; no-op if it is not queued. */
  remove(item: T): void {
    const queue = item.deadlineQueue as Queue | undefined;
    if (queue === undefined) return;
    this.#unlink(queue, item);
    if (queue.head === undefined) this.#drop(queue);
    // A queue whose oldest left keeps its timer: it fires early once, then waits for the new oldest.
  }

  /** The timers still running (one per timeout length in use). */
  get timers(): number {
    return this.#queues.size;
  }

  #unlink(queue: Queue, item: Timed): void {
    if (item.deadlinePrev === undefined) queue.head = item.deadlineNext;
    else item.deadlinePrev.deadlineNext = item.deadlineNext;
    if (item.deadlineNext === undefined) queue.tail = item.deadlinePrev;
    else item.deadlineNext.deadlinePrev = item.deadlinePrev;
    item.deadlinePrev = item.deadlineNext = undefined;
    item.deadlineQueue = undefined;
  }

  #drop(queue: Queue): void {
    if (queue.timer !== undefined) clearTimeout(queue.timer);
    queue.timer = undefined;
    if (this.#queues.get(queue.ms) === queue) this.#queues.delete(queue.ms);
  }

  /** The queue's timer fired: expire every request that is due, then wait for the next one. */
  #due(queue: Queue): void {
    queue.timer = undefined;
    const now = Date.now();
    // Taken out before any is expired: `expire` may add or remove others (of this queue too).
    const due: Timed[] = [];
    while (queue.head !== undefined && queue.head.deadline <= now) {
      const item = queue.head;
      this.#unlink(queue, item);
      due.push(item);
    }
    if (queue.head === undefined) this.#drop(queue);
    else if (queue.timer === undefined) {
      // Never longer than the length itself, even if the clock stepped back.
      const wait = Math.min(queue.ms, Math.max(1, queue.head.deadline - now));
      queue.timer = setTimeout(() => this.#due(queue), wait);
    }
    for (const item of due) this.#expire(item as T);
  }
}
