// Pairs per second across two hubs sharing one Redis, next to one hub on the MemoryStore, then the Redis lobby
// scenario (bench/redis-lobby.ts) on a private redis-server: `npx tsx bench/redis.ts [--quick] [--lobby-only]`.
import { request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createClient } from '@redis/client';
import { Netsync } from '../lib/netsync';
import { netsync } from '../lib/router';
import { MemoryStore } from '../lib/stores/memory';
import { RedisStore } from '../lib/stores/redis';
import { renderLobby, runLobby } from './redis-lobby';

const quick = process.argv.includes('--quick');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Pair loops running at once; each loop's two members alternate between the two hubs. */
const LOOPS = 64;
const WARMUP_MS = quick ? 200 : 1000;
const MEASURE_MS = quick ? 500 : 4000;

interface Result {
  readonly pairs: number;
  readonly seconds: number;
}

/** One member's request of a pair: resolves when the pair formed. */
type SendOne = (target: number, event: string, actor: string, round: number) => Promise<unknown>;

/** Through the programmatic API of hub `target`. */
function viaHubs(hubs: readonly Netsync[]): SendOne {
  return (target, event, actor, round) => (hubs[target] as Netsync).send({ event, actor, payload: round });
}

/** Over HTTP (keep-alive) to server `target`, as load-balanced clients would. */
function viaHttp(ports: readonly number[]): SendOne {
  const agent = new Agent({ keepAlive: true, maxSockets: LOOPS * 2 });
  return (target, event, actor, round) => new Promise((resolve, reject) => {
    const req = request({ agent, host: '127.0.0.1', port: ports[target], path: `/event?event=${event}&actor=${actor}&payload=${round}` }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(undefined) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Runs LOOPS pair loops for the warm-up then the measured window; `targets` hubs/servers, members alternating. */
async function measure(send: SendOne, targets: number): Promise<Result> {
  let counting = false;
  let stop = false;
  let pairs = 0;
  const loop = async (n: number): Promise<void> => {
    const event = `bench-${n}`;
    for (let round = 0; !stop; round++) {
      // Alternate which hub each member uses, so every pair crosses instances either way round.
      const first = (n + round) % targets;
      const second = (n + round + 1) % targets;
      await Promise.all([send(first, event, 'a', round), send(second, event, 'b', round)]);
      if (counting) pairs++;
      // The MemoryStore answers in microtasks; let timers run.
      await new Promise(setImmediate);
    }
  };
  const loops = Array.from({ length: LOOPS }, (_, n) => loop(n));
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  counting = true;
  const start = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  counting = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const counted = pairs;
  stop = true;
  await Promise.all(loops);
  return { pairs: counted, seconds };
}

function serve(hub: Netsync): Promise<Server> {
  const app = express();
  app.use(netsync({ hub }));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

async function main(): Promise<void> {
  if (!process.argv.includes('--lobby-only')) await pairs();
  // A quick run parks fewer waiters: it is a smoke test, not a figure to quote.
  const report = await runLobby(quick ? 2000 : 10_000, (line) => process.stdout.write(`${line}\n`));
  for (const line of renderLobby(report)) process.stdout.write(`${line}\n`);
}

async function pairs(): Promise<void> {
  const clients = [0, 1].map(() => createClient({ url: REDIS_URL, disableOfflineQueue: true }));
  await Promise.all(clients.map((c) => c.connect()));
  const prefix = `netsync-bench:${process.pid}:`;
  const memoryHub = new Netsync({ store: new MemoryStore() });
  const redisHubs = clients.map((client) => new Netsync({ store: new RedisStore({ client, prefix }) }));
  const servers = await Promise.all([memoryHub, ...redisHubs].map(serve));
  const ports = servers.map((s) => (s.address() as AddressInfo).port);

  const rows: [string, Result][] = [];
  rows.push(['API: one hub, MemoryStore', await measure(viaHubs([memoryHub]), 1)]);
  rows.push(['API: two hubs, RedisStore', await measure(viaHubs(redisHubs), 2)]);
  rows.push(['HTTP: one server, MemoryStore', await measure(viaHttp([ports[0] as number]), 1)]);
  rows.push(['HTTP: two servers, RedisStore', await measure(viaHttp([ports[1] as number, ports[2] as number]), 2)]);

  await Promise.all(servers.map(close));
  await Promise.all([memoryHub, ...redisHubs].map((hub) => hub.close()));
  for await (const keys of clients[0]!.scanIterator({ MATCH: `${prefix}*` })) if (keys.length > 0) await clients[0]!.unlink(keys);
  await Promise.all(clients.map((c) => c.close()));

  const rate = (r: Result): number => r.pairs / r.seconds;
  process.stdout.write(`netsync RedisStore benchmark${quick ? ' (quick)' : ''}: ${LOOPS} concurrent pair loops, members alternating between instances\n`);
  for (const [name, r] of rows) {
    process.stdout.write(`${name.padEnd(32)} ${rate(r).toFixed(0).padStart(8)} pairs/s  (${r.pairs} pairs in ${r.seconds.toFixed(2)} s)\n`);
  }
  const ratio = (i: number): string => (rate(rows[i + 1]![1]) / rate(rows[i]![1])).toFixed(2);
  process.stdout.write(`ratio Redis / Memory: API ${ratio(0)}x, HTTP ${ratio(2)}x\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/redis: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
