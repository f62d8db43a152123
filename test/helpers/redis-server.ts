// A private redis-server for tests that kill, pause or slow Redis: a free port, no persistence, always stopped.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

/** Resolves with a TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as { port: number }).port;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** A redis-server child on one port, which can be stopped and started again on the same port. */
export class PrivateRedis {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number, readonly extraArgs: readonly string[]) {}

  /** A server on a free port, started and accepting connections; `extraArgs` go to redis-server as they are. */
  static async start(extraArgs: readonly string[] = []): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort(), extraArgs);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Start (again) and resolve once it says it accepts connections (it logs to stdout). */
  async start(): Promise<void> {
    const child = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'notice',
      ...this.extraArgs,
    ], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.#child = child;
    let seen = '';
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`redis-server exited with ${String(code)} before it was ready: ${seen}`)));
        child.stdout.on('data', (chunk: Buffer) => {
          seen = (seen + chunk.toString()).slice(-4096);
          if (seen.includes('Ready to accept connections')) resolve();
        });
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    child.removeAllListeners('exit');
    child.stdout.removeAllListeners('data');
    child.stdout.resume();
  }

  /** Kill it at once (SIGKILL: no goodbye to clients), and resolve once it exited. Safe to call twice. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
}
