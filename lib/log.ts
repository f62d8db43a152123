// Lifecycle logging of a hub: the lane graph of the Go original, or one JSON object per line.
import type { Netsync, WithdrawReason } from './netsync';
import type { Group, LingerWindow, PendingRequest } from './stores/types';
import type { Match, RequestParams } from './types';

/** How lifecycle events are logged. */
export type LogFormat = 'graph' | 'json' | 'off';

/** A log format, or a format with a sink for each line (default: standard output). */
export type LogOption = LogFormat | { format: LogFormat; write: (line: string) => void };

type Write = (line: string) => void;

/** One formatter per hub event; the logger wires them to the hub and unwires them on stop. */
export interface LogHandlers {
  pending(req: PendingRequest): void;
  match(group: Group, match: Match): void;
  withdrawn(req: PendingRequest, reason: WithdrawReason): void;
  /** A linger window opened with these requests of the hub in its possible group. */
  lingering(reqs: readonly PendingRequest[], window: LingerWindow): void;
}

const LOG_FORMATS: readonly LogFormat[] = ['graph', 'json', 'off'];

/** True when `value` names a log format. */
export function isLogFormat(value: unknown): value is LogFormat {
  return typeof value === 'string' && (LOG_FORMATS as readonly string[]).includes(value);
}

/** True when `value` is a log format, or a format with a `write` function. */
export function isLogOption(value: unknown): value is LogOption {
  if (isLogFormat(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const option = value as Record<string, unknown>;
  return isLogFormat(option.format) && typeof option.write === 'function';
}

/**
 * Log `hub`'s lifecycle events; returns a function that stops logging.
 * `off` attaches no listener at all, so a hub without logging pays nothing.
 */
export function attachLogger(hub: Netsync, option: LogOption): () => void {
  const format = typeof option === 'string' ? option : option.format;
  const write: Write = typeof option === 'string' ? writeStdout : option.write;
  if (format === 'off') return () => undefined;
  const handlers = format === 'graph' ? graphHandlers(write) : jsonHandlers(write);
  // Bound copies, so `off` removes exactly these listeners.
  const onPending = (req: PendingRequest): void => handlers.pending(req);
  const onMatch = (group: Group, match: Match): void => handlers.match(group, match);
  const onWithdrawn = (req: PendingRequest, reason: WithdrawReason): void => handlers.withdrawn(req, reason);
  const onLingering = (reqs: readonly PendingRequest[], window: LingerWindow): void => handlers.lingering(reqs, window);
  hub.on('pending', onPending);
  hub.on('match', onMatch);
  hub.on('withdrawn', onWithdrawn);
  hub.on('lingering', onLingering);
  return () => {
    hub.off('pending', onPending);
    hub.off('match', onMatch);
    hub.off('withdrawn', onWithdrawn);
    hub.off('lingering', onLingering);
  };
}

function writeStdout(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `[event=e actor=a]`, with `mates=N` when it is not the default pair (and `linger` for a range, `widen=N stages`). */
function describe(event: string, actor: string, params?: Pick<RequestParams, 'mates' | 'linger' | 'widen'>): string {
  let text = `[event=${event} actor=${actor}`;
  if (params !== undefined && params.mates !== 1) text += ` mates=${params.mates}`;
  if (params?.linger !== undefined) text += ` linger=${params.linger}`;
  if (params?.widen !== undefined) text += ` widen=${params.widen.map((s) => `${s.after}:${s.selector}`).join(';')}`;
  return `${text}]`;
}

/**
 * Lanes drawn at most. Past them, further pending requests share one last lane, drawn `┆`, so a line costs the
 * same beside 10,000 pending requests as beside ten, instead of drawing (and writing) every one of them.
 */
export const GRAPH_LANES = 64;

/**
 * The graph's columns: the drawn lane of each pending request, or the overflow lane (the column after the last
 * drawn one) that the rest share. The row of open lanes is kept drawn: it also tells the leftmost free lane, and
 * a line only puts its marks into it, so every operation costs a few string slices of at most the drawn width.
 */
class Lanes {
  readonly #columns = new Map<string, number>();
  readonly #overflow = new Set<string>();
  /** `│` for each held lane, blanks for free ones, none trailing (the overflow lane is drawn apart). */
  #row = '';

  constructor(readonly width: number) {}

  /** Give `id` the leftmost free lane, or the overflow lane when every drawn lane is taken; returns its column. */
  open(id: string): number {
    let column = this.#row.indexOf(' ');
    if (column === -1) column = this.#row.length;
    if (column >= this.width) {
      this.#overflow.add(id);
      return this.width;
    }
    this.#columns.set(id, column);
    this.#row = put(this.#row, column, '│');
    return column;
  }

  /** The column of `id`'s lane; undefined when it has none (never pending here, or already closed). */
  columnOf(id: string): number | undefined {
    return this.#columns.get(id) ?? (this.#overflow.has(id) ? this.width : undefined);
  }

  close(id: string): void {
    const column = this.#columns.get(id);
    if (column === undefined) {
      this.#overflow.delete(id);
      return;
    }
    this.#columns.delete(id);
    this.#row = put(this.#row, column, ' ').trimEnd();
  }

  /** A line's prefix: the open lanes (`│`, `┆` for the overflow), with `mark` in each of `columns`. */
  draw(columns: Iterable<number | undefined>, mark: string): string {
    let prefix = this.#overflow.size > 0 ? `${this.#row.padEnd(this.width)}┆` : this.#row;
    for (const column of columns) if (column !== undefined) prefix = put(prefix, column, mark);
    return prefix.trimEnd();
  }
}

/** `row` with `char` at `column`, padded with blanks to reach it. */
function put(row: string, column: number, char: string): string {
  const padded = row.padEnd(column + 1);
  return `${padded.slice(0, column)}${char}${padded.slice(column + 1)}`;
}

/**
 * The lane graph: each pending request of this hub takes the leftmost free column (`┌` opens it,
 * `│` keeps it open, `└` closes it). A match closes all its members' lanes on one line and lists every
 * member, including members of other instances that never had a lane here. Past `width` lanes, the
 * requests share an overflow lane (GRAPH_LANES).
 */
export function graphHandlers(write: Write, width = GRAPH_LANES): LogHandlers {
  const lanes = new Lanes(width);

  return {
    pending(req) {
      const prefix = lanes.draw([lanes.open(req.id)], '┌');
      write(`${prefix} ${describe(req.params.event, req.params.actor, req.params)}`);
    },
    match(group) {
      const closing = group.members.map((m) => lanes.columnOf(m.id));
      // A group none of whose members had a lane here (e.g. `mates: 0` without a pending line) still gets a mark.
      const prefix = `${lanes.draw(closing, '└')}${closing.every((column) => column === undefined) ? '─' : ''}`;
      for (const member of group.members) lanes.close(member.id);
      const members = group.members.map((m) => describe(group.event, m.actor)).join(' ');
      write(`${prefix} match ${members}`);
    },
    withdrawn(req, reason) {
      const column = lanes.columnOf(req.id);
      // A request withdrawn before its pending line (rejected on arrival) has no lane to close.
      const prefix = `${lanes.draw([column], '└')}${column === undefined ? '─' : ''}`;
      lanes.close(req.id);
      write(`${prefix} withdrawn (${reason}) ${describe(req.params.event, req.params.actor, req.params)}`);
    },
    lingering(reqs, window) {
      // `├` marks the lanes whose requests could go now; they wait out the window for more mates.
      const prefix = lanes.draw(reqs.map((r) => lanes.columnOf(r.id)), '├');
      const members = reqs.map((r) => describe(r.params.event, r.params.actor)).join(' ');
      write(`${prefix} lingering ${window.spec.lingerMs}ms for mates=${window.spec.min}..${window.spec.max} ${members}`);
    },
  };
}

/** One JSON object per line: `{"type":"pending"|"match"|"withdrawn","time":ISO 8601,"event":…,…}`. */
export function jsonHandlers(write: Write, now: () => Date = () => new Date()): LogHandlers {
  const line = (record: Record<string, unknown>): void => write(JSON.stringify(record));
  return {
    pending(req) {
      const { event, actor, mates, labels, selector, linger, widen } = req.params;
      line({ type: 'pending', time: now().toISOString(), event, id: req.id, actor, mates, linger, labels, selector, widen });
    },
    match(group) {
      const members = group.members.map((m) => ({ id: m.id, actor: m.actor, labels: m.labels }));
      line({ type: 'match', time: now().toISOString(), event: group.event, members });
    },
    withdrawn(req, reason) {
      const { event, actor, mates } = req.params;
      line({ type: 'withdrawn', time: now().toISOString(), event, id: req.id, actor, mates, reason });
    },
    lingering(reqs, window) {
      line({
        type: 'lingering', time: now().toISOString(), event: window.event, ids: reqs.map((r) => r.id),
        mates: `${window.spec.min}..${window.spec.max}`, until: new Date(window.deadline).toISOString(),
      });
    },
  };
}
