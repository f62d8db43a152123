// Mate ranges on Redis next to exact pairs, in one run on a private redis-server, two hubs sharing it:
// `npx tsx bench/redis-ranges.ts [--quick]`.
//   pairs        exact `mates: 1`, two requests per round                       (the baseline)
//   full lobby   `mates: 1..3` (2 to 4 players), four requests per round: a MAX+1 group forms on arrival
//   lingering    `mates: 1..3`, three requests per round: the group forms when the window (linger) ends;
//                reported as how long after the window's end the players got their answer
//   backlog      `mates: 1..3` beside a backlog of waiters that can meet nobody (role=w seeking role=m): a
//                maker's arrival opens a window, whose CLOSE forms the pair; script times from SLOWLOG
import { createClient } from '@redis/client';
import { Netsync } from '../lib/netsync';
import { RedisStore } from '../lib/stores/redis';
import { slotGuarded } from '../lib/stores/redis/cluster';
import { CLOSE_LUA, OFFER_LUA } from '../lib/stores/redis/lua';
import { LuaScript } from '../lib/stores/redis/script';
import type { SendParams } from '../lib/types';
import { PrivateRedis } from '../test/helpers/redis-server';

// As the store sends them: behind the slot guard.
const OFFER_SHA = new LuaScript(slotGuarded(OFFER_LUA)).sha;
const CLOSE_SHA = new LuaScript(slotGuarded(CLOSE_LUA)).sha;

const quick = process.argv.includes('--quick');
/** Round loops running at once; each round's members alternate between the two hubs. */
const LOOPS = 32;
const WARMUP_MS = quick ? 200 : 1000;
const MEASURE_MS = quick ? 500 : 4000;
const LINGER_MS = 100;
const LINGER_ROUNDS = quick ? 20 : 100;
const BACKLOG = quick ? 2000 : 10_000;
const BACKLOG_ROUNDS = quick ? 5 : 20;

function makeClient(url: string) {
  return createClient({ url, disableOfflineQueue: true });
}

type Client = ReturnType<typeof makeClient>;

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

/** Script times (µs) of the backlog scenario, from SLOWLOG (threshold 0: every command is logged). */
interface BacklogTimes {
  readonly waiterOffer: number[];
  readonly makerOffer: number[];
  readonly close: number[];
}

async function slowlog(admin: Client): Promise<{ us: number; sha: string }[]> {
  const raw = (await admin.sendCommand(['SLOWLOG', 'GET', '-1'])) as unknown[][];
  await admin.sendCommand(['SLOWLOG', 'RESET']);
  return raw.map((entry) => ({ us: Number(entry[2]), sha: String((entry[3] as string[])[1] ?? '') }));
}

async function backlog(hub: Netsync, admin: Client): Promise<BacklogTimes> {
  const spec = { event: 'backlog', mates: '1..3', linger: '50ms' } as const;
  const parked: Promise<unknown>[] = [];
  for (let i = 0; i < BACKLOG; i++) {
    parked.push(hub.send({ ...spec, actor: `w${i}`, labels: { role: 'w' }, selector: 'role=m' }).catch(() => undefined));
    if (i % 500 === 499) await hub.stats();
  }
  await hub.stats();
  await slowlog(admin);
  const times: BacklogTimes = { waiterOffer: [], makerOffer: [], close: [] };
  for (let round = 0; round < BACKLOG_ROUNDS; round++) {
    // One more waiter (it meets nobody), then a maker: it opens a window and leaves with the oldest waiter.
    parked.push(hub.send({ ...spec, actor: `late${round}`, labels: { role: 'w' }, selector: 'role=m' }).catch(() => undefined));
    await hub.stats();
    times.waiterOffer.push(...(await slowlog(admin)).filter((e) => e.sha === OFFER_SHA).map((e) => e.us));
    const match = await hub.send({ ...spec, actor: `maker${round}`, labels: { role: 'm' }, selector: 'role=w' });
    if (match.members.length !== 2) throw new Error('the maker formed a group of the wrong size');
    const log = await slowlog(admin);
    times.makerOffer.push(...log.filter((e) => e.sha === OFFER_SHA).map((e) => e.us));
    times.close.push(Math.max(...log.filter((e) => e.sha === CLOSE_SHA).map((e) => e.us)));
  }
  await hub.close();
  await Promise.all(parked);
  return times;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

async function main(): Promise<void> {
  const server = await PrivateRedis.start(['--slowlog-log-slower-than', '0', '--slowlog-max-len', '100000']);
  const clients = [0, 1, 2].map(() => makeClient(server.url));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const hubs = clients.slice(0, 2).map((client) => new Netsync({ store: new RedisStore({ client, prefix: 'bench:' }) }));
    const pairs = await measure(hubs, 2, { mates: 1 });
    const lobby = await measure(hubs, 4, { mates: '1..3', linger: '60s' });
    const late = await lingering(hubs);
    await Promise.all(hubs.map((hub) => hub.close()));
    const times = await backlog(new Netsync({ store: new RedisStore({ client: clients[0]!, prefix: 'bench-backlog:' }) }), clients[2]!);

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
    const ms = (us: readonly number[]): string => `median ${(percentile(us, 0.5) / 1000).toFixed(2)} ms, max ${(Math.max(...us) / 1000).toFixed(2)} ms`;
    out(`beside ${BACKLOG} range waiters that meet nobody (${BACKLOG_ROUNDS} rounds, script time in Redis): ` +
      `a waiter's OFFER ${ms(times.waiterOffer)}; a maker's OFFER (opens the window) ${ms(times.makerOffer)}; ` +
      `the CLOSE that forms the pair ${ms(times.close)}`);
  } finally {
    await Promise.all(clients.map((c) => (c.isOpen ? c.close() : undefined)));
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/redis-ranges: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
