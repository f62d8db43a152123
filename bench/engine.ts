// Engine benchmark: pairs per second in-process, arrival cost beside a large never-matching backlog (exact and range
// requests), heap per pending request (with and without widening stage timers).
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { attachLogger } from '../lib/log';
import { netsyncMetrics } from '../lib/metrics';
import { Netsync } from '../lib/netsync';
import { median } from './http/common';

const quick = process.argv.includes('--quick');
const heapOnly = process.argv.includes('--heap-only');

/** Let settled promises' callbacks run, so a batch's results are collected before the next. */
const drain = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Sends `count` requests of distinct actors in batches; every two form a pair. Returns pairs per second. */
async function pairsPerSecond(count: number, metered = false): Promise<number> {
  const hub = new Netsync();
  if (metered) netsyncMetrics(hub, { registry: new Registry() });
  // Bounded concurrency, as a server sees it: a batch of callers at a time.
  const batch = 1_000;
  const start = performance.now();
  for (let done = 0; done < count; done += batch) {
    const sends: Promise<unknown>[] = [];
    for (let i = done; i < Math.min(count, done + batch); i++) sends.push(hub.send({ event: 'e', actor: `a${i}`, payload: i }));
    await Promise.all(sends);
  }
  const seconds = (performance.now() - start) / 1000;
  await hub.close();
  return count / 2 / seconds;
}

/** How the never-matching backlog is made up: one request repeated, distinct actors, or distinct selectors too. */
type BacklogKind = 'identical' | 'distinct-actor' | 'distinct-selector';

/**
 * A hub holding `backlog` requests that never match anyone: `selector=role=ghost` of one actor or each its own,
 * or each its own actor waiting for its own absent friend (`selector=actor=absent<i>`). `graphLog`: the hub logs
 * the lane graph, from before the backlog (lines are formatted, then dropped).
 */
async function hubWithBacklog(backlog: number, kind: BacklogKind = 'identical', graphLog = false): Promise<{ hub: Netsync; ghosts: Promise<unknown>[] }> {
  const hub = new Netsync({ maxPending: backlog + 10_000 });
  if (graphLog) attachLogger(hub, { format: 'graph', write: () => undefined });
  const ghosts: Promise<unknown>[] = [];
  for (let i = 0; i < backlog; i++) {
    const actor = kind === 'identical' ? 'ghost' : `ghost${i}`;
    const selector = kind === 'distinct-selector' ? `actor=absent${i}` : 'role=ghost';
    ghosts.push(hub.send({ event: 'e', actor, selector }).catch(() => undefined));
  }
  await drain();
  return { hub, ghosts };
}

/** Microseconds per arrival of `arrivals` requests that pair up among themselves. */
async function arrivalRound(hub: Netsync, arrivals: number, round: number): Promise<number> {
  const start = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < arrivals; i++) sends.push(hub.send({ event: 'e', actor: `r${round}p${i}` }));
  await Promise.all(sends);
  return ((performance.now() - start) * 1000) / arrivals;
}

/** Median arrival cost on an empty store and beside a backlog, measured in alternating rounds to share noise. */
async function arrivalCosts(
  backlog: number, arrivals: number, rounds: number, kind: BacklogKind, graphLog = false,
): Promise<{ empty: number; crowded: number }> {
  const empty = await hubWithBacklog(0, kind, graphLog);
  const crowded = await hubWithBacklog(backlog, kind, graphLog);
  const emptyTimes: number[] = [];
  const crowdedTimes: number[] = [];
  await arrivalRound(empty.hub, arrivals, -1);
  await arrivalRound(crowded.hub, arrivals, -1);
  for (let round = 0; round < rounds; round++) {
    emptyTimes.push(await arrivalRound(empty.hub, arrivals, round));
    crowdedTimes.push(await arrivalRound(crowded.hub, arrivals, round));
  }
  for (const { hub, ghosts } of [empty, crowded]) {
    await hub.close();
    await Promise.all(ghosts);
  }
  return { empty: median(emptyTimes), crowded: median(crowdedTimes) };
}


/**
 * Microseconds per arrival of range requests (`mates=1..3`, a long linger) that fill lobbies of four, on an
 * empty store and beside `backlog` range requests of the same spec that can meet nobody; alternating rounds, medians.
 */
async function rangeArrivalCosts(backlog: number, arrivals: number, rounds: number): Promise<{ empty: number; crowded: number }> {
  const spec = { mates: '1..3', linger: '1h' } as const;
  const make = async (count: number): Promise<{ hub: Netsync; ghosts: Promise<unknown>[] }> => {
    const hub = new Netsync({ maxPending: count + 10_000 });
    const ghosts: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) ghosts.push(hub.send({ event: 'lobby', actor: `ghost${i}`, selector: 'role=ghost', ...spec }).catch(() => undefined));
    await drain();
    return { hub, ghosts };
  };
  const round = async (hub: Netsync, r: number): Promise<number> => {
    const start = performance.now();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < arrivals; i++) sends.push(hub.send({ event: 'lobby', actor: `r${r}p${i}`, ...spec }));
    await Promise.all(sends);
    return ((performance.now() - start) * 1000) / arrivals;
  };
  const empty = await make(0);
  const crowded = await make(backlog);
  const emptyTimes: number[] = [];
  const crowdedTimes: number[] = [];
  await round(empty.hub, -1);
  await round(crowded.hub, -1);
  for (let r = 0; r < rounds; r++) {
    emptyTimes.push(await round(empty.hub, r));
    crowdedTimes.push(await round(crowded.hub, r));
  }
  for (const { hub, ghosts } of [empty, crowded]) {
    await hub.close();
    await Promise.all(ghosts);
  }
  return { empty: median(emptyTimes), crowded: median(crowdedTimes) };
}

/** Heap bytes per pending hub send (needs --expose-gc); `widen` gives each a stage an hour away (a pending timer). */
async function heapPerPending(count: number, kind: BacklogKind, widen = false): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  const hub = new Netsync({ maxPending: count + 1 });
  gc();
  await drain();
  gc();
  const before = process.memoryUsage().heapUsed;
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const actor = kind === 'identical' ? 'ghost' : `actor${i}`;
    const selector = kind === 'distinct-selector' ? `actor=absent${i}` : 'role=ghost';
    sends.push(hub.send({ event: 'e', actor, selector, ...(widen ? { widen: '1h:role=phantom' } : {}) }).catch(() => undefined));
  }
  await drain();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (hub.pendingCount !== count) throw new Error(`expected ${count} pending, got ${hub.pendingCount}`);
  await hub.close();
  await Promise.all(sends);
  return (after - before) / count;
}

async function heapReport(): Promise<void> {
  const identical = quick ? 20_000 : 100_000;
  // Each distinct actor is a class of its own (and each distinct selector a family of its own): fewer of them.
  const distinct = quick ? 10_000 : 20_000;
  const perIdentical = await heapPerPending(identical, 'identical');
  const perDistinct = await heapPerPending(distinct, 'distinct-actor');
  const perSelector = await heapPerPending(distinct, 'distinct-selector');
  console.log(`heap per pending request (${identical.toLocaleString('en-US')} identical requests): ${perIdentical.toFixed(0)} bytes`);
  console.log(`heap per pending request (${distinct.toLocaleString('en-US')} distinct actors): ${perDistinct.toFixed(0)} bytes`);
  console.log(`heap per pending request (${distinct.toLocaleString('en-US')} distinct actors and selectors): ${perSelector.toFixed(0)} bytes`);
  const perWidening = await heapPerPending(distinct, 'distinct-actor', true);
  console.log(
    `heap per pending request with a widening stage timer (${distinct.toLocaleString('en-US')} distinct actors): ${perWidening.toFixed(0)} bytes ` +
    `(${(perWidening - perDistinct).toFixed(0)} more than without)`,
  );
}

async function main(): Promise<void> {
  if (heapOnly) {
    await heapReport();
    return;
  }
  console.log(`netsync engine benchmark${quick ? ' (quick)' : ''}`);
  const pairs = await pairsPerSecond(quick ? 20_000 : 400_000);
  console.log(`pairs formed per second (hub + MemoryStore): ${Math.round(pairs).toLocaleString('en-US')}`);

  // netsyncMetrics' own cost, without HTTP around it: alternating rounds with and without, medians.
  const plainRounds: number[] = [];
  const meteredRounds: number[] = [];
  for (let round = 0; round < (quick ? 3 : 7); round++) {
    plainRounds.push(await pairsPerSecond(quick ? 20_000 : 100_000));
    meteredRounds.push(await pairsPerSecond(quick ? 20_000 : 100_000, true));
  }
  const [plain, metered] = [median(plainRounds), median(meteredRounds)];
  // Two requests per pair: the time a pair takes, over two, is what a request costs.
  const extraUs = (1e6 / metered - 1e6 / plain) / 2;
  console.log(
    `pairs formed per second with netsyncMetrics: ${Math.round(metered).toLocaleString('en-US')} ` +
    `(${(metered / plain).toFixed(2)}x of ${Math.round(plain).toLocaleString('en-US')} without; ${extraUs.toFixed(2)} µs per request; medians)`,
  );

  const backlog = quick ? 20_000 : 100_000;
  for (const kind of ['identical', 'distinct-actor', 'distinct-selector'] as const) {
    const { empty, crowded } = await arrivalCosts(backlog, quick ? 2_000 : 5_000, quick ? 3 : 15, kind);
    console.log(
      `arrival cost beside ${backlog.toLocaleString('en-US')} ${kind} never-matching waiters: ${crowded.toFixed(2)} µs ` +
      `(empty store ${empty.toFixed(2)} µs, ${(crowded / empty).toFixed(2)}x; medians)`,
    );
  }

  // The standalone server logs the lane graph by default: its lines must not grow with the backlog.
  const logged = await arrivalCosts(10_000, quick ? 2_000 : 5_000, quick ? 3 : 9, 'distinct-actor', true);
  console.log(
    `arrival cost with the graph log beside 10,000 distinct-actor never-matching waiters: ${logged.crowded.toFixed(2)} µs ` +
    `(empty store ${logged.empty.toFixed(2)} µs, ${(logged.crowded / logged.empty).toFixed(2)}x; medians)`,
  );

  const rangeBacklog = 10_000;
  const range = await rangeArrivalCosts(rangeBacklog, quick ? 2_000 : 4_000, quick ? 3 : 9);
  console.log(
    `range arrival cost (mates=1..3, lobbies of four) beside ${rangeBacklog.toLocaleString('en-US')} never-matching range waiters: ` +
    `${range.crowded.toFixed(2)} µs (empty store ${range.empty.toFixed(2)} µs, ${(range.crowded / range.empty).toFixed(2)}x; medians)`,
  );

  // Heap is measured in a child with the collector exposed, away from this process's garbage.
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--heap-only', ...(quick ? ['--quick'] : [])], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (child.status !== 0) console.log(`heap measurement failed (exit ${String(child.status)})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
