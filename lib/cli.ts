// The standalone server (`npx netsync :8000`): serves the router at the root until SIGTERM/SIGINT.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { parseArgs, USAGE, type ListenAddress, type RedisSettings, type StatsMode } from './cli/args';
import { clusterOptions } from './cli/cluster';
import { tuneHeap } from './cli/heap';
import { metricsEndpoint } from './cli/metrics';
import { describeListening, describeStore } from './cli/startup';
// The library through its public entry only: the build loads the package's own dist/index.js here instead of
// bundling a second copy, so errors and hubs are the same classes as those a host imports.
import { expressServerOptions, MemoryStore, Netsync, netsync, RedisStore, type LogFormat, type MatcherStore, type RedisStoreOptions, type StatsOption } from './index';

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_BACKSTOP_MS = 1500;

/** A store and whatever must be released after it. */
interface OpenedStore {
  readonly store: MatcherStore;
  readonly release: () => Promise<void>;
}

async function main(argv: readonly string[]): Promise<number | undefined> {
  // A log reader that goes away (`netsync | head`) must not take the server down: its lines are dropped.
  process.stdout.on('error', () => undefined);
  const result = parseArgs(argv, process.env);
  if (!result.ok) {
    process.stderr.write(`netsync: ${result.message}\n\n${USAGE}`);
    return 2;
  }
  const { command } = result;
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Before the first request: what V8 learns from a crowd of waiters arriving at a fresh process lasts.
  tuneHeap();
  const opened = command.redisCluster !== undefined
    ? await openRedisCluster(command.redisCluster, command.redis)
    : command.redisUrl === undefined ? { store: new MemoryStore(), release: async () => undefined } : await openRedis(command.redisUrl, command.redis);
  const hub = new Netsync({ store: opened.store, ...(command.maxPending === undefined ? {} : { maxPending: command.maxPending }) });
  const application = app(hub, command.log, command.stats, command.maxWaitMs, command.metrics);
  // Requests built with the app's prototypes: a half to a third of the CPU per request, and a backlog of waiters
  // no longer makes every request's garbage costly (README, serving many waiters).
  const server = createServer(expressServerOptions(application), application);
  try {
    await listen(server, command.address);
  } catch (error) {
    process.stderr.write(`netsync: cannot listen on ${describeAddress(command.address)}: ${messageOf(error)}\n`);
    await hub.close().catch(() => undefined);
    await opened.release();
    return 1;
  }
  // Before the address is printed: whoever reads it may signal at once.
  handleSignals(server, hub, opened);
  process.stdout.write(`netsync listening on ${describeListening(server.address() as AddressInfo)}, store: ${describeStore(command.redisUrl, command.redisCluster)}\n`);
  return undefined;
}

/** The host app: the router at the root, and `GET /metrics` when asked for. */
function app(hub: Netsync, log: LogFormat, stats: StatsMode, maxWaitMs: number | undefined, metrics: boolean): express.Express {
  const application = express();
  application.disable('x-powered-by');
  if (metrics) application.get('/metrics', metricsEndpoint(hub));
  application.use(netsync({ hub, log, stats: STATS_OPTION[stats], ...(maxWaitMs === undefined ? {} : { maxWait: maxWaitMs }) }));
  return application;
}

/** The router's `stats` option for each `--stats` mode. */
const STATS_OPTION: Readonly<Record<StatsMode, StatsOption>> = { full: true, redacted: 'redacted', off: false };

/** Connect to Redis; a first connection that fails ends start-up instead of retrying forever. */
async function openRedis(url: string, settings: RedisSettings): Promise<OpenedStore> {
  const { createClient } = await import('@redis/client');
  let ready = false;
  const client = createClient({
    url,
    // Commands fail at once while Redis is away, so callers get `store_unavailable` instead of hanging.
    disableOfflineQueue: true,
    // Retries at most every 500 ms once it has been up, so the store is serving again within a second of Redis.
    socket: { reconnectStrategy: (retries: number, cause: Error) => (ready ? Math.min(50 * 2 ** retries, 500) : cause) },
  });
  client.on('error', (error: unknown) => process.stderr.write(`netsync: redis: ${messageOf(error)}\n`));
  try {
    await client.connect();
  } catch (error) {
    process.stderr.write(`netsync: cannot connect to Redis at ${describeStore(url)}: ${messageOf(error)}\n`);
    process.exit(1);
  }
  ready = true;
  return redisStoreOn(client, settings);
}

/** Connect to a Redis Cluster through its seed nodes; a first discovery that fails ends start-up. */
async function openRedisCluster(seeds: readonly string[], settings: RedisSettings): Promise<OpenedStore> {
  const { createCluster } = await import('@redis/client');
  let ready = false;
  const cluster = createCluster(clusterOptions(seeds, (retries, cause) => (ready ? Math.min(50 * 2 ** retries, 500) : cause)));
  const report = (error: unknown): void => void process.stderr.write(`netsync: redis cluster: ${messageOf(error)}\n`);
  cluster.on('error', report);
  cluster.on('node-error', report);
  try {
    await cluster.connect();
  } catch (error) {
    process.stderr.write(`netsync: cannot connect to Redis Cluster at ${describeStore(undefined, seeds)}: ${messageOf(error)}\n`);
    process.exit(1);
  }
  ready = true;
  return redisStoreOn(cluster, settings);
}

/** The Redis store on a connected client or cluster, with the CLI's settings; releasing it closes that connection. */
function redisStoreOn(
  connection: RedisStoreOptions['client'] & { close(): Promise<unknown>; destroy(): unknown },
  settings: RedisSettings,
): OpenedStore {
  const store = new RedisStore({
    client: connection,
    ...(settings.prefix === undefined ? {} : { prefix: settings.prefix }),
    ...(settings.leaseMs === undefined ? {} : { leaseMs: settings.leaseMs }),
  });
  return {
    store,
    release: async () => {
      await connection.close().catch(() => connection.destroy());
    },
  };
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stop accepting, answer every waiter `shutting_down`, release the store, exit 0. */
function handleSignals(server: Server, hub: Netsync, opened: OpenedStore): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => {
      server.closeAllConnections();
      process.exit(0);
    }, SHUTDOWN_BACKSTOP_MS).unref();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    void (async () => {
      await hub.close().catch((error: unknown) => process.stderr.write(`netsync: closing: ${messageOf(error)}\n`));
      // The waiters' 503 answers are written now; their keep-alive connections go idle and can be closed.
      setImmediate(() => server.closeIdleConnections());
      await closed;
      await opened.release();
      process.exit(0);
    })();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

function describeAddress(address: ListenAddress): string {
  return `${address.host === undefined ? '' : address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`netsync: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
