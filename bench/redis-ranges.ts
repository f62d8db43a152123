// Mate ranges on Redis next to exact pairs, in one run on a private redis-server, two hubs sharing it:
// `npx tsx bench/redis-ranges.ts [--quick]`.
//   pairs        exact `mates: 1`, two requests per round                       (the baseline)
//   full lobby   `mates: 1..3` (2 to 4 players), four requests per round: a MAX+1 group forms on arrival
//   lingering    `mates: 1..3`, three requests per round: the group forms when the window (linger) ends;
//                reported as how long after the window's end the players got their answer
import { createClient } from '@redis/client';
import { Netsync } from '../lib/netsync';
import { RedisStore } from '../lib/stores/redis';
import type { SendParams } from '../lib/types';
import { PrivateRedis } from '../test/helpers/redis-server';

const quick = process.argv.includes('--quick');
/** Round loops running at once; each round's members alternate between the two hubs. */
const LOOPS = 32;
const WARMUP_MS = quick ? 200 : 1000;
const MEASURE_MS = quick ? 500 : 4000;
const LINGER_MS = 100;
const LINGER_ROUNDS = quick ? 20 : 100;

interface Rate {
  readonly groups: number;
  readonly requests: number;
  readonly seconds: number;
}

/** LOOPS loops, each sending `size` requests of `params` per round (alternating hubs) until the window closes. */
async function measure(hubs: readonly Netsync[], size: number, params: Omit<SendParams, 'event' | 'actor'>): Promise<Rate> {
  let counting = false;
  let stop = false;
  let groups = 0;
  const loop = async (n: number): Promise<void> => {
    const event = `bench-${size}-${n}`;
    for (let round = 0; !stop; round++) {
      await Promise.all(Array.from({ length: size }, (_, i) =>
        hubs[(n + round + i) % hubs.length]!.send({ ...params, event, actor: `p${i}`, payload: round })));
      if (counting) groups++;
    }
  };
  const loops = Array.from({ length: LOOPS }, (_, n) => loop(n));
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  counting = true;
  const start = process.hrtime.bigint();
  await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
  counting = false;
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const counted = groups;
  stop = true;
  await Promise.all(loops);
  return { groups: counted, requests: counted * size, seconds };
}

/**
 * Rounds of three players on a 1..3 range, one round at a time: ms from the window's end (the last arrival
 * that opened it plus the linger; the second player opens it) until every player had its answer.
 */
async function lingering(hubs: readonly Netsync[]): Promise<number[]> {
  const late: number[] = [];
  for (let round = 0; round < LINGER_ROUNDS; round++) {
    const event = `linger-${round}`;
    const params = { event, mates: '1..3', linger: `${LINGER_MS}ms` };
    const first = hubs[0]!.send({ ...params, actor: 'p0' });
    await hubs[0]!.stats();
    const opened = performance.now();
    const rest = [hubs[1]!.send({ ...params, actor: 'p1' }), hubs[0]!.send({ ...params, actor: 'p2' })];
    const groups = await Promise.all([first, ...rest]);
    if (groups.some((g) => g.members.length !== 3)) throw new Error('a lingering round formed a group without all three');
    late.push(performance.now() - opened - LINGER_MS);
  }
  return late;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

async function main(): Promise<void> {
  const server = await PrivateRedis.start();
  const clients = [0, 1].map(() => createClient({ url: server.url, disableOfflineQueue: true }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const hubs = clients.map((client) => new Netsync({ store: new RedisStore({ client, prefix: 'bench:' }) }));
    const pairs = await measure(hubs, 2, { mates: 1 });
    const lobby = await measure(hubs, 4, { mates: '1..3', linger: '60s' });
    const late = await lingering(hubs);
    await Promise.all(hubs.map((hub) => hub.close()));

    const perSecond = (r: Rate, what: 'groups' | 'requests'): number => r[what] / r.seconds;
    const out = (line: string): void => void process.stdout.write(`${line}\n`);
    out(`netsync RedisStore ranges benchmark${quick ? ' (quick)' : ''}: ${LOOPS} concurrent loops over two hubs, private redis-server`);
    for (const [name, r] of [['exact pairs (mates 1)', pairs], ['full lobbies (mates 1..3, 4 players)', lobby]] as const) {
      out(`${name.padEnd(38)} ${perSecond(r, 'groups').toFixed(0).padStart(7)} groups/s ${perSecond(r, 'requests').toFixed(0).padStart(7)} requests/s`);
    }
    out(`ratio full lobbies / pairs: ${(perSecond(lobby, 'requests') / perSecond(pairs, 'requests')).toFixed(2)}x requests/s, ` +
      `${(perSecond(lobby, 'groups') / perSecond(pairs, 'groups')).toFixed(2)}x groups/s`);
    out(`lingering lobbies (3 players, linger ${LINGER_MS}ms, ${LINGER_ROUNDS} rounds): answered after the window's end ` +
      `median ${percentile(late, 0.5).toFixed(1)} ms, p95 ${percentile(late, 0.95).toFixed(1)} ms, max ${Math.max(...late).toFixed(1)} ms`);
  } finally {
    await Promise.all(clients.map((c) => (c.isOpen ? c.close() : undefined)));
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/redis-ranges: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
