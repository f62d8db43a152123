// Disconnect storm: many waiters, half cut at random, then mates for all of them; the server's RSS after each round.
import { rssBytes, sleep } from '../../bench/http/processes';
import { mb, waitingIn } from '../../bench/http/suite';
import type { SoakContext } from '../context';
import { checkGroups, sent, type Sent } from '../ledger';
import { newTally, type ScenarioResult } from '../outcomes';
import type { Instance } from '../servers';
import { launch, settle, shuffled, type Flight } from '../traffic';

/** Size of the storm. */
export interface StormPlan {
  readonly rounds: number;
  readonly waiters: number;
  /** Mates sent for cut waiters: any of them answered 200 shows a ghost. */
  readonly probes: number;
}

/** Poll /stats until `count` requests of `event` with actors starting `actorPrefix` wait; false after `ms`. */
async function waitFor(server: Instance, event: string, actorPrefix: string, count: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if ((await waitingIn(server, event, actorPrefix).catch(() => -1)) === count) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/**
 * RSS and heap in use right after a full collection: without one, a reading lands anywhere in the
 * collector's cycle and rounds differ by a fifth with no leak at all.
 */
async function afterCollection(server: Instance): Promise<{ rss: number; heap: number }> {
  const heap = await server.collectGarbage();
  await sleep(200);
  return { rss: rssBytes(server.child.pid), heap };
}

/** One request of the storm: waiter `w<i>` wants mate `m<i>` and the other way round. */
function stormRequest(event: string, side: 'w' | 'm', i: number): Sent {
  const other = side === 'w' ? 'm' : 'w';
  return sent({
    event,
    actor: `${side}${i}`,
    payload: `${event}:${side}${i}`,
    mates: 1,
    labels: { role: side, id: String(i) },
    selector: [
      { key: 'role', op: '=', value: other },
      { key: 'id', op: '=', value: String(i) },
    ],
  });
}

/** Run the rounds; the result carries the RSS after each. */
export async function runStorm(ctx: SoakContext, server: Instance, plan: StormPlan): Promise<ScenarioResult> {
  const t0 = Date.now();
  const tally = newTally();
  const all: Sent[] = [];
  const notes: string[] = [];
  const rssRounds: number[] = [];
  const heapRounds: number[] = [];
  // Peak open requests: the survivors, their mates and the probes (as many as all the waiters, plus the probes).
  const waiters = Math.min(plan.waiters, ctx.maxOpen - plan.probes) & ~1;
  if (waiters < plan.waiters) notes.push(`${waiters} waiters per round instead of ${plan.waiters} (open-file limit)`);
  for (let round = 1; round <= plan.rounds; round++) {
    const event = `${ctx.tag}-storm-r${round}`;
    const ws = Array.from({ length: waiters }, (_, i) => stormRequest(event, 'w', i));
    all.push(...ws);
    const waiting = ws.map((s) => launch(ctx, server.port, s));
    await Promise.all(waiting.map((f) => f.call.connected));
    if (!(await waitFor(server, event, 'w', waiters, 60000))) notes.push(`round ${round}: not all ${waiters} waiters were pending within 60 s`);

    const cut = new Set(shuffled(waiting).slice(0, waiters / 2));
    for (const f of cut) {
      f.sent.abortedEarly = true;
      f.call.abort();
    }
    if (!(await waitFor(server, event, 'w', waiters - cut.size, 30000))) {
      notes.push(`round ${round}: /stats still listed cut waiters after 30 s`);
    }

    const survivors = waiting.filter((f) => !cut.has(f));
    const mates = survivors.map((f) => stormRequest(event, 'm', Number(f.sent.actor.slice(1))));
    const probes = [...cut].slice(0, plan.probes).map((f) => stormRequest(event, 'm', Number(f.sent.actor.slice(1))));
    all.push(...mates, ...probes);
    const probeFlights = probes.map((s) => launch(ctx, server.port, s));
    const mateFlights = shuffled(mates).map((s) => launch(ctx, server.port, s));
    await settle([...survivors, ...mateFlights], tally, new Set());
    // The probes had as long as the survivors' mates; give them a moment more, then go.
    await sleep(500);
    for (const f of probeFlights) {
      f.sent.abandoned = true;
      f.call.abort();
    }
    await settle([...cut, ...probeFlights] as Flight[], tally, new Set());
    if (!(await waitFor(server, event, '', 0, 10000))) notes.push(`round ${round}: requests of the round still pending after it ended`);
    const { rss, heap } = await afterCollection(server);
    rssRounds.push(rss);
    heapRounds.push(heap);
    ctx.fleet.sample();
    ctx.log(`storm round ${round}: RSS ${mb(rss)} MB, heap in use ${mb(heap)} MB`);
  }
  const check = checkGroups(all, true);
  return {
    name: `disconnect storm, ${plan.rounds} rounds`,
    what: `${waiters} waiters per round in one event (each wants its own mate by selector), half cut at random, then mates for the rest and ${plan.probes} mates for cut ones`,
    tally,
    groups: check.groups,
    violations: check.violations,
    samples: check.samples,
    notes,
    seconds: (Date.now() - t0) / 1000,
    rssRounds,
    heapRounds,
  };
}
