// Command-line parsing of the standalone server: `netsync [ADDR] [options]` (see USAGE).
import { parseArgs as parseNodeArgs } from 'node:util';
import { parseDuration } from '../http/duration';
import { isLogFormat, type LogFormat } from '../log';
import { parseSeeds } from './cluster';

/** The usage text printed by `--help` and after a bad argument. */
export const USAGE = `Usage: netsync [ADDR] [--log graph|json|off] [--redis URL] [--stats full|redacted|off] [--metrics] [--help]
       [--max-wait DURATION] [--max-pending N] [--redis-cluster URL[,URL...]] [--prefix P] [--lease DURATION]

Serve GET|POST /event and GET /stats at the root.

  ADDR                where to listen: :8000, 8000, 127.0.0.1:8000 or [::1]:8000
                      (default :8000, all interfaces; port 0 picks a free port)
  --log FORMAT        lifecycle log on standard output: graph (default), json or off
  --stats MODE        GET /stats: full (default, with payloads), redacted (without
                      payloads) or off (not served)
  --max-wait DURATION cap on any wait, and the wait of requests without a timeout:
                      seconds (90) or a duration (500ms, 30s, 2m, 1h); default no cap
  --max-pending N     most requests waiting at once before 503 overloaded
                      (default 100000)
  --redis URL         keep pending requests in Redis (default: $REDIS_URL, else in memory)
  --redis-cluster URL[,URL...]
                      keep pending requests in a Redis Cluster, found through these
                      seed nodes (instead of --redis)
  --prefix P          Redis key and channel prefix (default netsync:); servers meet
                      only with the same prefix
  --lease DURATION    Redis instance lease: how long waiters of a vanished server
                      can still be matched (default 5s)
  --metrics           serve GET /metrics (Prometheus text format: netsync and process metrics)
  -h, --help          show this help
`;

/** Where to listen; `host` undefined means every interface. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** What `GET /stats` serves: everything, everything but payloads, or nothing. */
export type StatsMode = 'full' | 'redacted' | 'off';

const STATS_MODES: readonly StatsMode[] = ['full', 'redacted', 'off'];

/** What the command line asks for. */
export type CliCommand =
  | { readonly kind: 'help' }
  | {
    readonly kind: 'serve';
    readonly address: ListenAddress;
    readonly log: LogFormat;
    readonly redisUrl: string | undefined;
    /** `--redis-cluster`: the seed nodes of a Redis Cluster (then `redisUrl` is undefined). */
    readonly redisCluster?: readonly string[];
    readonly stats: StatsMode;
    /** Serve `GET /metrics`. */
    readonly metrics: boolean;
    /** `--max-wait` in milliseconds; undefined: no cap. */
    readonly maxWaitMs: number | undefined;
    /** `--max-pending`; undefined: the hub's default. */
    readonly maxPending: number | undefined;
    /** Options of the Redis store (only with a Redis URL); undefined fields take the store's defaults. */
    readonly redis: RedisSettings;
  };

/** What the command line sets of the Redis store. */
export interface RedisSettings {
  readonly prefix: string | undefined;
  readonly leaseMs: number | undefined;
}

/** The outcome of parsing: a command, or a message saying what is wrong (the CLI prints usage and exits 2). */
export type ParseResult = { readonly ok: true; readonly command: CliCommand } | { readonly ok: false; readonly message: string };

/** Parse the arguments after `node cli.js`; `env` supplies `REDIS_URL` when `--redis` is absent. */
export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): ParseResult {
  let parsed;
  try {
    parsed = parseNodeArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        log: { type: 'string' },
        redis: { type: 'string' },
        'redis-cluster': { type: 'string' },
        stats: { type: 'string' },
        metrics: { type: 'boolean' },
        'max-wait': { type: 'string' },
        'max-pending': { type: 'string' },
        prefix: { type: 'string' },
        lease: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { ok: true, command: { kind: 'help' } };
  if (positionals.length > 1) return { ok: false, message: `expected at most one ADDR, got ${positionals.join(' ')}` };
  const address = parseAddress(positionals[0] ?? ':8000');
  if (address === undefined) return { ok: false, message: `invalid ADDR ${JSON.stringify(positionals[0])}: use :8000, 8000, 127.0.0.1:8000 or [::1]:8000` };
  const log = values.log ?? 'graph';
  if (!isLogFormat(log)) return { ok: false, message: `invalid --log ${JSON.stringify(log)}: use graph, json or off` };
  if (values.redis !== undefined && values['redis-cluster'] !== undefined) {
    return { ok: false, message: '--redis and --redis-cluster exclude each other: give one' };
  }
  const redisCluster = values['redis-cluster'] === undefined ? undefined : parseSeeds(values['redis-cluster'], isRedisUrl);
  if (typeof redisCluster === 'string') return { ok: false, message: redisCluster };
  // A cluster given on the command line takes the place of REDIS_URL.
  const redisUrl = redisCluster !== undefined ? undefined : values.redis ?? (env.REDIS_URL === '' ? undefined : env.REDIS_URL);
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) {
    return { ok: false, message: `invalid Redis URL ${JSON.stringify(redisUrl)}: use redis://host:port or rediss://host:port` };
  }
  const stats = values.stats ?? 'full';
  if (!isStatsMode(stats)) return { ok: false, message: `invalid --stats ${JSON.stringify(stats)}: use full, redacted or off` };
  const maxWaitMs = optionalDuration(values['max-wait'], '--max-wait');
  if (typeof maxWaitMs === 'string') return { ok: false, message: maxWaitMs };
  const maxPending = optionalCount(values['max-pending'], '--max-pending');
  if (typeof maxPending === 'string') return { ok: false, message: maxPending };
  const leaseMs = optionalDuration(values.lease, '--lease');
  if (typeof leaseMs === 'string') return { ok: false, message: leaseMs };
  const { prefix } = values;
  if (prefix === '') return { ok: false, message: 'invalid --prefix "": give a prefix such as myapp: (default netsync:)' };
  // Without Redis these would silently do nothing; a user who typed them expects them to matter.
  if (redisUrl === undefined && redisCluster === undefined) {
    const redisOnly = [prefix === undefined ? undefined : '--prefix', leaseMs === undefined ? undefined : '--lease'].filter((o) => o !== undefined);
    if (redisOnly.length > 0) {
      return { ok: false, message: `${redisOnly.join(' and ')} ${redisOnly.length > 1 ? 'set' : 'sets'} up the Redis store: add --redis URL (or set REDIS_URL) or --redis-cluster URL` };
    }
  }
  return { ok: true, command: { kind: 'serve', address, log, redisUrl, ...(redisCluster === undefined ? {} : { redisCluster }), stats, maxWaitMs, maxPending, redis: { prefix, leaseMs }, metrics: values.metrics === true } };
}

/** Milliseconds of a duration option (unitless: seconds); a message when it is not one. */
function optionalDuration(text: string | undefined, option: string): number | string | undefined {
  if (text === undefined) return undefined;
  return parseDuration(text, 1000) ?? `invalid ${option} ${JSON.stringify(text)}: use seconds (90) or a duration (500ms, 30s, 2m, 1h)`;
}

/** A positive integer option; a message when it is not one. */
function optionalCount(text: string | undefined, option: string): number | string | undefined {
  if (text === undefined) return undefined;
  const count = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  return count >= 1 ? count : `invalid ${option} ${JSON.stringify(text)}: use a positive whole number`;
}

/** `:8000`, `8000`, `host:8000` or `[v6]:8000`; undefined when it is none of these. */
export function parseAddress(text: string): ListenAddress | undefined {
  const match = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]*)):)?(\d{1,5})$/.exec(text);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  const host = match[1] ?? match[2];
  return { host: host === undefined || host === '' ? undefined : host, port };
}

function isStatsMode(text: string): text is StatsMode {
  return (STATS_MODES as readonly string[]).includes(text);
}

function isRedisUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'redis:' || url.protocol === 'rediss:';
  } catch {
    return false;
  }
}
