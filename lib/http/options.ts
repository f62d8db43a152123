// Checks the router's options when the factory is called, so a misconfiguration fails at start-up with what to fix.
import bytes from 'bytes';
import { isLogOption, type LogOption } from '../log';
import { Netsync } from '../netsync';
import type { NetsyncRouterOptions } from '../router';
import { MAX_WAIT_MS, parseDuration } from './duration';
import type { StatsOption } from './stats';

/** The options after checks and defaults. */
export interface RouterSettings {
  readonly hub: Netsync;
  readonly maxWaitMs: number | undefined;
  readonly limitBytes: number;
  /** The limit as the operator wrote it, for `too_large` messages. */
  readonly limitLabel: string;
  readonly stats: StatsOption;
  readonly log: LogOption | undefined;
}

/** Default body limit: 64 KiB. */
export const DEFAULT_LIMIT = '64kb';

const KNOWN_OPTIONS: ReadonlySet<string> = new Set(['store', 'hub', 'maxMates', 'maxWait', 'maxPending', 'limit', 'stats', 'log']);

/** Check `options` and apply defaults; throws TypeError naming the option to fix. */
export function resolveOptions(options: NetsyncRouterOptions): RouterSettings {
  if (typeof options !== 'object' || options === null) fail('options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) fail(`unknown option ${JSON.stringify(key)}; known options are ${[...KNOWN_OPTIONS].join(', ')}`);
  }
  if (options.stats !== undefined && typeof options.stats !== 'boolean' && options.stats !== 'redacted') {
    fail(`stats must be true (the full /stats), 'redacted' (without payloads) or false (no /stats), got ${describeOption(options.stats)}`);
  }
  if (options.log !== undefined && !isLogOption(options.log)) fail('log must be graph, json, off or { format, write }');
  const limit = options.limit ?? DEFAULT_LIMIT;
  return {
    hub: resolveHub(options),
    maxWaitMs: resolveMaxWait(options.maxWait),
    limitBytes: parseSize(limit),
    limitLabel: typeof limit === 'number' ? `${limit} bytes` : limit,
    stats: options.stats ?? true,
    log: options.log,
  };
}

/** The shared hub, or a new one: `new Netsync` checks store, maxMates and maxPending itself. */
function resolveHub(options: NetsyncRouterOptions): Netsync {
  const { hub, store, maxMates, maxPending } = options;
  if (hub === undefined) {
    return new Netsync({
      ...(store === undefined ? {} : { store }),
      ...(maxMates === undefined ? {} : { maxMates }),
      ...(maxPending === undefined ? {} : { maxPending }),
    });
  }
  // By shape, not instanceof: a hub may come from another copy of this package (ESM and CommonJS builds).
  if (typeof hub !== 'object' || hub === null || typeof hub.send !== 'function' || typeof hub.stats !== 'function') {
    fail('hub must be a Netsync');
  }
  // A shared hub has its own store and limits: options that would be silently ignored are an error instead.
  if (store !== undefined) fail('store cannot be given with hub: the hub already has its store');
  if (maxMates !== undefined && maxMates !== hub.maxMates) fail(`maxMates ${maxMates} differs from the hub's ${hub.maxMates}; set it on the hub`);
  if (maxPending !== undefined && maxPending !== hub.maxPending) {
    fail(`maxPending ${maxPending} differs from the hub's ${hub.maxPending}; set it on the hub`);
  }
  return hub;
}

function resolveMaxWait(maxWait: number | string | undefined): number | undefined {
  if (maxWait === undefined) return undefined;
  // Numbers and unitless strings are milliseconds here (unlike the `timeout` field, which counts seconds).
  const ms = parseDuration(maxWait, 1);
  if (ms === undefined) fail(`maxWait must be a positive number of milliseconds or a duration like 30s, 2m (at most ${MAX_WAIT_MS} ms)`);
  return ms;
}

/** Sizes are read as body-parser reads its own `limit` (`64kb`, `1mb`, or bytes). */
function parseSize(limit: unknown): number {
  const size = typeof limit === 'number' || typeof limit === 'string' ? bytes.parse(limit) : null;
  if (size !== null && Number.isSafeInteger(size) && size > 0) return size;
  return fail('limit must be a positive number of bytes or a size like 64kb, 1mb');
}

function describeOption(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : value === null ? 'null' : typeof value;
}

function fail(message: string): never {
  throw new TypeError(`netsync: ${message}`);
}
