// A private Redis Cluster for tests: three masters on free ports, joined by redis-cli, always stopped.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient, createCluster } from '@redis/client';
import { Netsync } from '../../lib/netsync';
import { RedisStore } from '../../lib/stores/redis';
import { freePort, PrivateRedis } from './redis-server';
import { describeWhen } from './describe-when';

const run = promisify(execFile);

/** How long the cluster may take to form before the suite gives up (bounded start-up). */
const FORM_LIMIT_MS = 30_000;

/** Whether this machine can run a private cluster: redis-server and redis-cli on the PATH. */
function clusterToolsAvailable(): boolean {
  const ok = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('redis-server') && ok('redis-cli');
}

const required = process.env.NETSYNC_REQUIRE_REDIS === '1';
const available = clusterToolsAvailable();
let noticed = false;

/**
 * `describe` for suites that need a private cluster: runs when redis-server and redis-cli are installed; when
 * they are not, the suite fails if NETSYNC_REQUIRE_REDIS=1 and is skipped with a notice otherwise.
 */
export function describeCluster(name: string, fn: () => void): void {
  describeWhen({
    available, required, test: 'needs redis-server and redis-cli', skippedAs: 'redis-server/redis-cli not available',
    message: 'redis-server or redis-cli is not installed and NETSYNC_REQUIRE_REDIS=1',
    onSkip: () => {
      if (!noticed) process.stderr.write('\nnotice: redis-server or redis-cli is not installed; the Redis Cluster suites are skipped\n');
      noticed = true;
    },
  }, name, fn);
}

/** A node-redis cluster client as a service would make it (offline queue off, quick reconnects). */
export function newClusterClient(urls: readonly string[]) {
  const cluster = createCluster({
    rootNodes: urls.map((url) => ({ url })),
    defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 300) } },
  });
  // Node failures are expected in some tests; they surface through the store.
  cluster.on('error', () => undefined);
  cluster.on('node-error', () => undefined);
  return cluster;
}

export type TestCluster = ReturnType<typeof newClusterClient>;

/** One master: its server and cluster node id. */
export interface ClusterNode {
  readonly server: PrivateRedis;
  readonly id: string;
  readonly url: string;
}

/** Three redis-server processes with cluster mode on, joined into one cluster with no replicas. */
export class PrivateCluster {
  readonly #clients: TestCluster[] = [];

  private constructor(readonly nodes: readonly ClusterNode[], readonly dir: string) {}

  /**
   * Start three masters and join them, within FORM_LIMIT_MS; on any failure or overrun every process started
   * (or still starting) is stopped before it rejects.
   */
  static async start(): Promise<PrivateCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'netsync-cluster-'));
    const servers: PrivateRedis[] = [];
    let abandoned = false;
    const form = async (): Promise<PrivateCluster> => {
      for (let i = 0; i < 3; i++) {
        // The cluster bus port is given explicitly: the default (port + 10000) may not exist for a high free port.
        const bus = await freePort();
        const server = await PrivateRedis.start([
          '--cluster-enabled', 'yes', '--cluster-port', String(bus), '--dir', dir,
          '--cluster-config-file', `nodes-${i}.conf`, '--cluster-node-timeout', '2000',
        ]);
        servers.push(server);
        if (abandoned) throw new Error('the cluster start was abandoned');
      }
      await run('redis-cli', [
        '--cluster', 'create', ...servers.map((s) => `127.0.0.1:${s.port}`), '--cluster-replicas', '0', '--cluster-yes',
      ], { timeout: FORM_LIMIT_MS });
      const nodes: ClusterNode[] = [];
      for (const server of servers) nodes.push({ server, url: server.url, id: await nodeCommand(server.port, ['CLUSTER', 'MYID']) as string });
      const cluster = new PrivateCluster(nodes, dir);
      await cluster.settled();
      return cluster;
    };
    const forming = form();
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`the cluster did not form within ${FORM_LIMIT_MS}ms`)), FORM_LIMIT_MS);
    });
    try {
      return await Promise.race([forming, overrun]);
    } catch (err) {
      abandoned = true;
      // A server still starting is stopped once it is up (it joins `servers` first).
      await forming.catch(() => undefined);
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** A connected cluster client, closed by stop(). */
  async client(): Promise<TestCluster> {
    const client = newClusterClient(this.urls);
    this.#clients.push(client);
    await client.connect();
    return client;
  }

  /** Resolves once every node reports the cluster ok and agrees on who owns every slot; bounded. */
  async settled(limitMs = FORM_LIMIT_MS): Promise<void> {
    const start = Date.now();
    for (;;) {
      const views = await Promise.all(this.nodes.map(async (n) => {
        try {
          const info = await nodeCommand(n.server.port, ['CLUSTER', 'INFO']) as string;
          return info.includes('cluster_state:ok') ? JSON.stringify(await this.#owners(n.server.port)) : undefined;
        } catch {
          return undefined;
        }
      }));
      if (views.every((v) => v !== undefined && v === views[0])) return;
      if (Date.now() - start > limitMs) throw new Error(`the cluster did not settle within ${limitMs}ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Slot ranges by owner id, as the node on `port` sees them. */
  async #owners(port: number): Promise<[number, number, string][]> {
    const slots = await nodeCommand(port, ['CLUSTER', 'SLOTS']) as [number, number, [string, number, string]][];
    return slots.map(([from, to, [, , id]]) => [from, to, id] as [number, number, string]).sort((a, b) => a[0] - b[0]);
  }

  /** The master owning `slot`, as the first node sees it. */
  async ownerOf(slot: number): Promise<ClusterNode> {
    const first = this.nodes[0] as ClusterNode;
    const range = (await this.#owners(first.server.port)).find(([from, to]) => from <= slot && slot <= to);
    const owner = this.nodes.find((n) => n.id === range?.[2]);
    if (owner === undefined) throw new Error(`no owner for slot ${slot}`);
    return owner;
  }

  /** The lowest slot each master owns (what `redis-cli --cluster reshard` moves first from a source). */
  async lowestSlots(): Promise<Map<string, number>> {
    const lowest = new Map<string, number>();
    for (const [from, , id] of await this.#owners((this.nodes[0] as ClusterNode).server.port)) if (!lowest.has(id)) lowest.set(id, from);
    return lowest;
  }

  /** Move `count` slots from `from` to `to` with redis-cli, as an operator would; resolves when it is done. */
  async reshard(from: ClusterNode, to: ClusterNode, count: number): Promise<void> {
    await run('redis-cli', [
      '--cluster', 'reshard', `127.0.0.1:${from.server.port}`, '--cluster-from', from.id, '--cluster-to', to.id,
      '--cluster-slots', String(count), '--cluster-yes',
    ], { timeout: FORM_LIMIT_MS });
    await this.settled();
  }

  /** Keys held by each master (DBSIZE), in node order. */
  async keyCounts(): Promise<number[]> {
    return Promise.all(this.nodes.map(async (n) => Number(await nodeCommand(n.server.port, ['DBSIZE']))));
  }

  /** Close every client made here, stop every server, remove the nodes' files. Safe to call twice. */
  async stop(): Promise<void> {
    for (const client of this.#clients.splice(0)) {
      try {
        if (client.isOpen) client.destroy();
      } catch {
        // Already closed.
      }
    }
    await Promise.all(this.nodes.map((n) => n.server.stop()));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** One command to one node with a short-lived plain client (cluster administration and inspection). */
export async function nodeCommand(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** CRC16/XMODEM, the hash of Redis Cluster key slots. */
function crc16(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The slot of a key (its `{tag}` if it has a non-empty one). */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  return crc16(Buffer.from(hashed, 'utf8')) % 16384;
}

/** What clusterPerFile gives a suite. */
export interface ClusterFixture {
  /** The file's cluster (only inside its tests). */
  cluster(): PrivateCluster;
  /** A hub on a RedisStore with its own cluster client, as a separate app instance has; closed after the test. */
  hub(prefix: string): Promise<{ hub: Netsync; client: TestCluster }>;
}

/** A private cluster for the calling file: started before its tests, stopped after them (call inside describeCluster). */
export function clusterPerFile(): ClusterFixture {
  let started: PrivateCluster | undefined;
  const hubs: Netsync[] = [];
  beforeAll(async () => {
    started = await PrivateCluster.start();
  }, 60_000);
  afterEach(async () => {
    await Promise.all(hubs.splice(0).map((hub) => hub.close()));
  });
  afterAll(() => started?.stop());
  const cluster = (): PrivateCluster => {
    if (started === undefined) throw new Error('the cluster did not start');
    return started;
  };
  return {
    cluster,
    async hub(prefix) {
      const client = await cluster().client();
      const hub = new Netsync({ store: new RedisStore({ client, prefix }) });
      hubs.push(hub);
      return { hub, client };
    },
  };
}
