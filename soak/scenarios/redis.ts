// Two CLI instances on one private Redis under steady load; Redis is killed and restarted (empty) mid-run.
import { sleep } from '../../bench/http/processes';
import type { SoakContext } from '../context';
import { checkGroups, sent, type Sent } from '../ledger';
import { newTally, type ScenarioResult } from '../outcomes';
import type { Instance, PrivateRedis } from '../servers';
import { launch, settle, type Flight } from '../traffic';

/** Size and timing of the Redis run. */
export interface RedisPlan {
  /** Private pairs, each with one member on either instance. */
  readonly pairs: number;
  /** Clients all in one event, alternating between the instances. */
  readonly shared: number;
  readonly seconds: number;
  /** Outages: when Redis is killed (seconds into the run) and how long it stays down. */
  readonly outages: ReadonlyArray<{ readonly at: number; readonly downFor: number }>;
}

/** How long a client waits after an error before it sends again (a client that backs off a little). */
const RETRY_PAUSE_MS = 50;
/** No client sends more than this many requests, however fast the answers come. */
const MAX_PER_CLIENT = 5000;
/** After the run ends, how long requests still waiting may finish before they are abandoned. */
const GRACE_MS = 3000;

/** Run the load over instances `a` and `b`, with `redis` killed and restarted as planned. */
export async function runRedis(ctx: SoakContext, redis: PrivateRedis, a: Instance, b: Instance, plan: RedisPlan): Promise<ScenarioResult> {
  const t0 = Date.now();
  const end = t0 + plan.seconds * 1000;
  const tally = newTally();
  const all: Sent[] = [];
  const live = new Set<Flight>();
  const notes: string[] = [];
  const documented = new Set(['store_unavailable', 'overloaded'] as const);

  const client = async (event: string, actor: string, target: Instance): Promise<void> => {
    for (let i = 0; Date.now() < end && i < MAX_PER_CLIENT; i++) {
      const s = sent({ event, actor, payload: `${event}:${actor}:${i}`, mates: 1, labels: {}, selector: undefined });
      all.push(s);
      const flight = launch(ctx, target.port, s, '30s');
      live.add(flight);
      await settle([flight], tally, documented);
      live.delete(flight);
      if (s.answer?.status !== 200) await sleep(RETRY_PAUSE_MS);
    }
  };
  const clients: Array<Promise<void>> = [];
  for (let k = 0; k < plan.pairs; k++) {
    const event = `${ctx.tag}-redis-p${k}`;
    clients.push(client(event, 'left', a), client(event, 'right', b));
  }
  for (let k = 0; k < plan.shared; k++) clients.push(client(`${ctx.tag}-redis-shared`, `s${k}`, k % 2 === 0 ? a : b));

  const outages = (async () => {
    for (const outage of plan.outages) {
      await sleep(Math.max(0, t0 + outage.at * 1000 - Date.now()));
      await redis.kill();
      ctx.log(`redis killed at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await sleep(outage.downFor * 1000);
      await redis.restart();
      ctx.log(`redis restarted at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
  })();

  // Requests still waiting when the run ends have no mate coming: give them a grace period, then abandon them.
  const stop = (async () => {
    await sleep(Math.max(0, end - Date.now()) + GRACE_MS);
    for (const f of live) {
      f.sent.abandoned = true;
      f.call.abort();
    }
  })();
  await Promise.all([...clients, outages]);
  await stop;
  const check = checkGroups(all, true);
  const abandoned = all.filter((s) => s.abandoned).length;
  if (abandoned > 0) notes.push(`${abandoned} requests still waiting ${GRACE_MS / 1000} s after the run ended were abandoned (not counted as violations)`);
  return {
    name: `Redis kill and restart, two instances`,
    what:
      `${plan.pairs} private pairs (one member on each instance) and ${plan.shared} clients in one shared event, looping for ${plan.seconds} s; ` +
      `Redis SIGKILLed ${plan.outages.map((o) => `at ${o.at} s for ${o.downFor} s`).join(' and ')}, restarted empty`,
    tally,
    groups: check.groups,
    violations: check.violations,
    samples: check.samples,
    notes,
    seconds: (Date.now() - t0) / 1000,
  };
}
