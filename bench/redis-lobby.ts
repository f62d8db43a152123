// The Redis lobby scenario: 10,000 distinct-actor waiters in one event on a private Redis, next to the same arrivals
// in an empty event; script times from SLOWLOG, memory from INFO, and the fail-fast and recovery times of an outage.
import { randomBytes } from 'node:crypto';
import { createClient } from '@redis/client';
import { normalizeParams } from '../lib/params';
import { RedisStore } from '../lib/stores/redis';
import { slotGuarded } from '../lib/stores/redis/cluster';
import * as lua from '../lib/stores/redis/lua';
import { OFFER_LUA } from '../lib/stores/redis/lua';
import { LuaScript } from '../lib/stores/redis/script';
import type { PendingRequest } from '../lib/stores/types';
import type { SendParams } from '../lib/types';
import { PrivateRedis } from '../test/helpers/redis-server';
import { median } from './http/common';

function makeClient(url: string) {
  // Reconnect attempts at most 300 ms apart, as a service wanting recovery within a second would configure it.
  return createClient({ url, disableOfflineQueue: true, socket: { reconnectStrategy: (n: number) => Math.min(50 * 2 ** n, 300) } });
}

type Client = ReturnType<typeof makeClient>;

/** What the scenario measured; times in µs unless named otherwise. */
export interface LobbyReport {
  readonly waiters: number;
  readonly emptyArrival: Timing;
  readonly lobbyArrival: Timing;
  readonly emptyMaker: Timing;
  readonly lobbyMaker: Timing;
  readonly bytesPerWaiter: number;
  readonly payloadAndLabelsPerWaiter: number;
  readonly slowestScriptUs: number;
  readonly slowestScript: string;
  readonly scriptCalls: number;
  readonly statsMs: number;
  readonly failFastMs: { median: number; max: number };
  readonly recoveryMs: number;
}

/** Medians of one kind of arrival: inside Redis (the OFFER script, from SLOWLOG) and as the caller waits for it. */
export interface Timing {
  readonly scriptUs: number;
  readonly roundTripUs: number;
}

// As the store sends them: the scripts that write an event's keys go behind the slot guard.
const OFFER_SHA = new LuaScript(slotGuarded(OFFER_LUA)).sha;
const SCRIPT_NAMES = new Map(Object.entries(lua).filter(([name]) => name.endsWith('_LUA')).flatMap(([name, source]) => [
  [new LuaScript(source).sha, name.replace(/_LUA$/, '')],
  [new LuaScript(slotGuarded(source)).sha, name.replace(/_LUA$/, '')],
]));

function scriptName(sha: string): string {
  return SCRIPT_NAMES.get(sha) ?? 'EVAL';
}
let nextId = 0;

function request(params: SendParams): PendingRequest {
  const { params: normalized, selector, classKey, spec, stages } = normalizeParams(params);
  return { id: `bench-${(nextId++).toString(36)}`, params: normalized, selector, classKey, spec, stages, createdAt: Date.now() };
}


/** SLOWLOG entries (threshold 0: every command) as [duration µs, first args]. */
async function slowlog(admin: Client): Promise<{ us: number; args: string[] }[]> {
  const raw = (await admin.sendCommand(['SLOWLOG', 'GET', '-1'])) as unknown[][];
  return raw.map((entry) => ({ us: Number(entry[2]), args: (entry[3] as string[]) ?? [] }));
}

async function usedMemory(admin: Client): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/**
 * Offers each request alone (one at a time) and returns the median script time and round trip.
 * `settle` undoes each arrival (withdraw, or nothing when it matched) before the next.
 */
async function arrivals(
  store: RedisStore, admin: Client, make: (i: number) => Promise<PendingRequest>, settle: (req: PendingRequest) => Promise<void>, n: number,
): Promise<Timing> {
  const trips: number[] = [];
  const scripts: number[] = [];
  for (let i = 0; i < n; i++) {
    const req = await make(i);
    await admin.sendCommand(['SLOWLOG', 'RESET']);
    const start = process.hrtime.bigint();
    await store.offer(req);
    trips.push(Number(process.hrtime.bigint() - start) / 1000);
    const offers = (await slowlog(admin)).filter((e) => e.args[0]?.toUpperCase() === 'EVALSHA' && e.args[1] === OFFER_SHA);
    if (offers[0] !== undefined) scripts.push(offers[0].us);
    await settle(req);
  }
  return { scriptUs: median(scripts), roundTripUs: median(trips) };
}

/** Runs the scenario on a private redis-server; `waiters` players wait for a game maker in one event. */
export async function runLobby(waiters: number, log: (line: string) => void): Promise<LobbyReport> {
  const server = await PrivateRedis.start(['--slowlog-log-slower-than', '0', '--slowlog-max-len', '1000000']);
  const connect = async (): Promise<Client> => {
    const client = makeClient(server.url);
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  const [client, admin] = await Promise.all([connect(), connect()]);
  const store = new RedisStore({ client, prefix: `bench:${randomBytes(3).toString('hex')}:` });
  let matched = 0;
  store.onMatch(() => matched++);
  try {
    const payload = 'x'.repeat(100);
    const player = (event: string, i: number): PendingRequest =>
      request({ event, actor: `player${i}`, labels: { role: 'w' }, selector: 'role=m', payload });
    const maker = (event: string): PendingRequest =>
      request({ event, actor: 'maker', labels: { role: 'm' }, selector: 'role=w', payload: 'game' });
    const withdraw = async (req: PendingRequest): Promise<void> => {
      await store.withdraw(req.id);
    };
    const none = async (): Promise<void> => undefined;
    const samples = 200;

    // An empty event: a player arrives alone (and leaves); a game maker meets the one player there.
    await store.offer(player('warmup', -1));
    const emptyArrival = await arrivals(store, admin, async (i) => player(`empty-a${i}`, i), withdraw, samples);
    const emptyMaker = await arrivals(store, admin, async (i) => {
      await store.offer(player(`solo${i}`, i));
      return maker(`solo${i}`);
    }, none, samples);

    // The lobby: `waiters` distinct players in one event.
    await admin.sendCommand(['SLOWLOG', 'RESET']);
    const before = await usedMemory(admin);
    const seeded: PendingRequest[] = [];
    for (let i = 0; i < waiters; i++) seeded.push(player('lobby', i));
    let payloadAndLabels = 0;
    for (const req of seeded) payloadAndLabels += JSON.stringify(req.params.payload).length + JSON.stringify(req.params.labels).length;
    for (let i = 0; i < seeded.length; i += 500) await Promise.all(seeded.slice(i, i + 500).map((req) => store.offer(req)));
    // The log itself takes memory: read it, then empty it before measuring.
    const seedLog = await slowlog(admin);
    await admin.sendCommand(['SLOWLOG', 'RESET']);
    const after = await usedMemory(admin);
    log(`seeded ${waiters} waiters in one event; used_memory +${after - before} bytes`);

    const statsStart = Date.now();
    const listed = await store.pending();
    const statsMs = Date.now() - statsStart;
    if (listed.length < waiters) throw new Error(`stats listed ${listed.length} of ${waiters}`);

    const lobbyArrival = await arrivals(store, admin, async (i) => player('lobby', waiters + i), withdraw, samples);
    // Each game maker takes the oldest player; the lobby shrinks by `samples` of its `waiters`.
    const lobbyMaker = await arrivals(store, admin, async () => maker('lobby'), none, samples);
    const tailLog = await slowlog(admin);
    const scripts = [...seedLog, ...tailLog].filter((e) => e.args[0]?.toUpperCase().startsWith('EVAL'));
    if (process.env.BENCH_VERBOSE) {
      const top = [...scripts].sort((a, b) => b.us - a.us).slice(0, 8);
      for (const e of top) log(`  slow: ${e.us} µs ${scriptName(e.args[1] ?? '')} ${(e.args[3] ?? '').slice(0, 60)}`);
    }

    // Outage: Redis stops; new offers must fail at once. Then it comes back; how soon does an offer succeed?
    const noticed = new Promise((resolve) => client.once('reconnecting', resolve));
    await server.stop();
    await noticed;
    const failTimes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const start = process.hrtime.bigint();
      await store.offer(player('outage', i)).then(
        () => { throw new Error('an offer succeeded while Redis was down'); },
        () => undefined,
      );
      failTimes.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    await server.start();
    const back = Date.now();
    for (let i = 0; ; i++) {
      const ok = await store.offer(player('recovered', i)).then(() => true, () => false);
      if (ok) break;
      if (Date.now() - back > 10_000) throw new Error('no recovery within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const recoveryMs = Date.now() - back;

    return {
      waiters,
      emptyArrival,
      lobbyArrival,
      emptyMaker,
      lobbyMaker,
      bytesPerWaiter: (after - before) / waiters,
      payloadAndLabelsPerWaiter: payloadAndLabels / waiters,
      slowestScriptUs: Math.max(...scripts.map((e) => e.us)),
      slowestScript: scriptName(scripts.reduce((a, b) => (b.us > a.us ? b : a)).args[1] ?? ''),
      scriptCalls: scripts.length,
      statsMs,
      failFastMs: { median: median(failTimes), max: Math.max(...failTimes) },
      recoveryMs,
    };
  } finally {
    await store.close().catch(() => undefined);
    for (const c of [client, admin]) if (c.isOpen) c.destroy();
    await server.stop();
    log(`groups formed during the scenario: ${matched}`);
  }
}

/** The report as lines, with each target of the lobby scenario checked. */
export function renderLobby(r: LobbyReport): string[] {
  const us = (t: number): string => `${t.toFixed(0)} µs`;
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
  const overhead = r.bytesPerWaiter - r.payloadAndLabelsPerWaiter;
  const check = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  return [
    `Redis lobby: ${r.waiters} distinct-actor waiters (labels role=w, selector role=m) in one event, private redis-server`,
    `  newcomer matching none: script ${us(r.lobbyArrival.scriptUs)} vs ${us(r.emptyArrival.scriptUs)} in an empty event (${ratio(r.lobbyArrival.scriptUs, r.emptyArrival.scriptUs)}), round trip ${us(r.lobbyArrival.roundTripUs)} vs ${us(r.emptyArrival.roundTripUs)} (${ratio(r.lobbyArrival.roundTripUs, r.emptyArrival.roundTripUs)}) — target ≤ 2×: ${check(r.lobbyArrival.scriptUs <= 2 * r.emptyArrival.scriptUs)}`,
    `  matching game maker: script ${us(r.lobbyMaker.scriptUs)} vs ${us(r.emptyMaker.scriptUs)} in an event with one player (${ratio(r.lobbyMaker.scriptUs, r.emptyMaker.scriptUs)}), round trip ${us(r.lobbyMaker.roundTripUs)} vs ${us(r.emptyMaker.roundTripUs)} (${ratio(r.lobbyMaker.roundTripUs, r.emptyMaker.roundTripUs)})`,
    `  used_memory per waiter: ${r.bytesPerWaiter.toFixed(0)} bytes, ${overhead.toFixed(0)} above its payload and labels (${r.payloadAndLabelsPerWaiter.toFixed(0)} bytes as JSON) — target ≤ 1536: ${check(overhead <= 1536)}`,
    `  slowest script call (SLOWLOG, ${r.scriptCalls} calls): ${(r.slowestScriptUs / 1000).toFixed(2)} ms (${r.slowestScript}) — target ≤ 50 ms: ${check(r.slowestScriptUs <= 50_000)}`,
    `  /stats read of every waiter: ${r.statsMs} ms — target < 1000 ms: ${check(r.statsMs < 1000)}`,
    `  outage: new requests failed after ${r.failFastMs.median.toFixed(2)} ms (median, max ${r.failFastMs.max.toFixed(2)} ms) — target ≤ 100 ms: ${check(r.failFastMs.max <= 100)}; first offer accepted ${r.recoveryMs} ms after Redis was back — target ≤ 1000 ms: ${check(r.recoveryMs <= 1000)}`,
  ];
}
