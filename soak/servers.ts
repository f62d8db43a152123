// The processes a soak drives: CLI instances (watched for crashes, their RSS sampled) and a private redis-server.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { listening, rssBytes, start, type Server } from '../bench/http/processes';

/** One RSS reading of a CLI instance. */
export interface RssSample {
  readonly server: string;
  /** Seconds since the soak started. */
  readonly at: number;
  readonly rss: number;
}

/** A CLI instance the soak started, and whether it went away without being asked. */
export interface Instance extends Server {
  readonly name: string;
  /** Stop it with SIGTERM (SIGKILL after `graceMs`); resolves with its exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** Send SIGTERM only, as an operator would; resolves with its exit code (null if killed after `backstopMs`). */
  terminate(backstopMs: number): Promise<number | null>;
  /**
   * Run a full garbage collection in it and resolve with the heap in use after it (bytes); only for an
   * instance started with the collector preload (`gc: true`), else it rejects without signalling.
   */
  collectGarbage(): Promise<number>;
  /** True once it exited without a stop from the soak. */
  crashed(): boolean;
  /** Its stderr, last lines (for the report when it crashed). */
  stderrTail(): string;
}

/** Starts CLI instances and samples their RSS once a second until `close`. */
export class Fleet {
  readonly #instances: Instance[] = [];
  readonly #samples: RssSample[] = [];
  readonly #timer: NodeJS.Timeout;

  /**
   * `gcPreload`: a bundled script that collects garbage on SIGUSR2 (loaded with --expose-gc into instances
   * started with `gc: true`).
   */
  constructor(
    private readonly cli: string,
    private readonly t0: number,
    private readonly gcPreload: string,
  ) {
    this.#timer = setInterval(() => this.sample(), 1000);
  }

  /** Start `node <cli> 127.0.0.1:0 --log off …extra` and resolve once it listens. */
  async start(name: string, extra: readonly string[] = [], options: { gc?: boolean } = {}): Promise<Instance> {
    const nodeFlags = options.gc ? ['--expose-gc', '--require', this.gcPreload] : [];
    const child = start(process.execPath, [...nodeFlags, this.cli, '127.0.0.1:0', '--log', 'off', ...extra]);
    let stopping = false;
    const server = await listening(child, `netsync ${name}`);
    const instance: Instance = {
      ...server,
      name,
      stop: async (graceMs = 5000) => {
        stopping = true;
        await child.stop(graceMs);
        return child.closed;
      },
      terminate: async (backstopMs) => {
        stopping = true;
        child.process.kill('SIGTERM');
        const timer = setTimeout(() => child.process.kill('SIGKILL'), backstopMs);
        const code = await child.closed;
        clearTimeout(timer);
        return code;
      },
      collectGarbage: async () => {
        // Without the preload, SIGUSR2 would end the process.
        if (!options.gc) throw new Error(`${name} was started without the collector preload`);
        child.process.kill('SIGUSR2');
        const line = await child.nextLine((l) => l.startsWith('soak: '), 30000, `${name} garbage collection`);
        const heap = /^soak: gc (\d+)$/.exec(line);
        if (heap === null) throw new Error(`${name}: ${line} (started without --expose-gc?)`);
        return Number(heap[1]);
      },
      crashed: () => !stopping && (child.process.exitCode !== null || child.process.signalCode !== null),
      stderrTail: () => child.stderr().trim().split('\n').slice(-5).join('\n'),
    };
    this.#instances.push(instance);
    return instance;
  }

  /** Read the RSS of every live instance now (also done once a second). */
  sample(): void {
    const at = (Date.now() - this.t0) / 1000;
    for (const i of this.#instances) {
      if (i.child.process.exitCode !== null || i.child.process.signalCode !== null) continue;
      try {
        this.#samples.push({ server: i.name, at, rss: rssBytes(i.child.pid) });
      } catch {
        // It exited between the check and the read; the crash check reports it.
      }
    }
  }

  get samples(): readonly RssSample[] {
    return this.#samples;
  }

  /** Instances that exited on their own, with the tail of their stderr. */
  crashes(): Array<{ name: string; stderr: string }> {
    return this.#instances.filter((i) => i.crashed()).map((i) => ({ name: i.name, stderr: i.stderrTail() }));
  }

  /** Stop sampling and stop every instance still running. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all(this.#instances.map((i) => i.stop(2000).catch(() => undefined)));
  }
}

/** A private redis-server on a free loopback port, without persistence, that can be killed and restarted. */
export class PrivateRedis {
  #child: ReturnType<typeof start> | undefined;

  private constructor(readonly port: number) {}

  /** Start one on a free port; rejects when redis-server is missing or does not come up. */
  static async open(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start it (again, on the same port, empty). */
  async restart(): Promise<void> {
    const child = start('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    this.#child = child;
    await child.nextLine((l) => l.includes('Ready to accept connections'), 10000, 'redis-server');
  }

  /** SIGKILL: an outage without goodbye. */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child) return;
    child.process.kill('SIGKILL');
    await child.closed;
  }

  async close(): Promise<void> {
    await this.#child?.stop(2000);
    this.#child = undefined;
  }
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** This process's soft limit on open files (`ulimit -n`), as a shell started from it sees it. */
export function openFileLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  } catch {
    return 1024;
  }
}
