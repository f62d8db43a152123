// What every scenario gets from the soak: its size, the connection gate, the running instances and a log.
import type { ConnectGate } from './client';
import type { Fleet } from './servers';

/** Shared settings and services of one soak run. */
export interface SoakContext {
  readonly gate: ConnectGate;
  /** Most requests the soak keeps open at once: bounded by its open-file limit. */
  readonly maxOpen: number;
  readonly fleet: Fleet;
  readonly log: (line: string) => void;
  /** Unique per run, so event names never meet those of another run. */
  readonly tag: string;
  /** Longest the soak waits for any one answer before it counts the request as unanswered. */
  readonly deadlineMs: number;
}
