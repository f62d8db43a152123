// SIGTERM with many requests waiting: each gets `503 shutting_down` (or a clean close), and the process exits 0 promptly.
import { sleep } from '../../bench/http/processes';
import { waitingIn } from '../../bench/http/suite';
import type { SoakContext } from '../context';
import { checkGroups, sent } from '../ledger';
import { errorCodeOf, newTally, type ScenarioResult } from '../outcomes';
import type { Instance } from '../servers';
import { launch, settle } from '../traffic';

/** How long after SIGTERM the process must be gone; the CLI's own backstop is shorter. */
const EXIT_WITHIN_MS = 5000;

/** Park `waiters` never-matching requests on a fresh `server`, send SIGTERM, and watch every answer and the exit. */
export async function runShutdown(ctx: SoakContext, server: Instance, waiters: number): Promise<ScenarioResult> {
  const t0 = Date.now();
  const event = `${ctx.tag}-sigterm`;
  const notes: string[] = [];
  const tally = newTally();
  const requests = Array.from({ length: waiters }, (_, i) =>
    sent({ event, actor: `t${i}`, payload: `${event}:${i}`, mates: 1, labels: {}, selector: [{ key: 'role', op: '=', value: 'ghost' }] }),
  );
  const flights = requests.map((s) => launch(ctx, server.port, s));
  await Promise.all(flights.map((f) => f.call.connected));
  const deadline = Date.now() + 30000;
  let pending = 0;
  while ((pending = await waitingIn(server, event, 't').catch(() => -1)) !== waiters && Date.now() < deadline) await sleep(200);
  if (pending !== waiters) notes.push(`only ${pending} of ${waiters} were pending when SIGTERM was sent`);

  const signalled = Date.now();
  const exitCode = await server.terminate(EXIT_WITHIN_MS + 5000);
  const exitMs = Date.now() - signalled;
  await settle(flights, tally, new Set(['shutting_down']));
  let answered503 = 0;
  let closedClean = 0;
  let other = 0;
  for (const s of requests) {
    const a = s.answer;
    if (a?.status === 503 && errorCodeOf(a) === 'shutting_down') answered503++;
    // An EOF before any response is the documented fallback once the backstop closes the remaining sockets.
    else if (a?.status === 0 && a.failure === 'socket hang up') closedClean++;
    else other++;
  }
  const check = checkGroups(requests, false);
  return {
    name: `SIGTERM with ${waiters} waiting`,
    what: 'never-matching waiters (`selector=role=ghost`), then SIGTERM to the CLI',
    tally,
    groups: check.groups,
    violations: check.violations,
    samples: check.samples,
    notes,
    seconds: (Date.now() - t0) / 1000,
    shutdown: { waiters, answered503, closedClean, other, exitCode, exitMs },
  };
}

/** Whether a shutdown result meets its target: every waiter answered 503 or closed cleanly, exit 0 in time. */
export function shutdownMet(s: NonNullable<ScenarioResult['shutdown']>): boolean {
  return s.other === 0 && s.exitCode === 0 && s.exitMs <= EXIT_WITHIN_MS;
}
