// STUB — replaced by the lifecycle loggers (the lane graph of DESIGN §6, and JSON lines).
import type { Netsync } from './netsync';

/** How lifecycle events are logged. */
export type LogFormat = 'graph' | 'json' | 'off';

/** A log format, or a format with a sink for each line (default: standard output). */
export type LogOption = LogFormat | { format: LogFormat; write: (line: string) => void };

/** Log `hub`'s lifecycle events; returns a function that stops logging. */
export function attachLogger(_hub: Netsync, _option: LogOption): () => void {
  return () => undefined;
}
