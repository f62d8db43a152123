// Bad input: every malformed request must be answered with a 4xx and a JSON error, never 200, 5xx or silence.
import { send, type Answer } from '../client';
import type { SoakContext } from '../context';
import { sleep } from '../../bench/http/processes';
import { badCases, surrogateMeetings, type BadCase, type BadInputPlan } from '../bad-input';
import { noViolations } from '../ledger';
import { count, newTally, type BadInputCheck, type ScenarioResult } from '../outcomes';
import type { Instance } from '../servers';

/** Requests of this scenario in flight at once. */
const CONCURRENCY = 32;
/** A malformed request answered later than this counts as hung (slow bodies take about 2 s to send). */
const DEADLINE_MS = 20000;

/** Why `answer` is not the 4xx JSON error bad input deserves, or undefined when it is. */
export function refusalProblem(answer: Answer): string | undefined {
  if (answer.status === 0) return `no answer (${answer.failure ?? 'closed'})`;
  if (answer.status < 400 || answer.status > 499) return `${answer.status} (${answer.bytes} bytes)`;
  if (!answer.contentType.includes('json')) return `${answer.status} with Content-Type ${answer.contentType || 'none'}`;
  try {
    const { error } = JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof error?.code === 'string' && typeof error.message === 'string') return undefined;
  } catch {
    // Reported below.
  }
  return `${answer.status} without {"error":{"code","message"}}: ${answer.body.slice(0, 80)}`;
}

/** Send every case (`CONCURRENCY` at a time) and check each answer. */
export async function runMalformed(ctx: SoakContext, server: Instance, plan: BadInputPlan, store = 'memory'): Promise<ScenarioResult> {
  const t0 = Date.now();
  const cases = badCases(plan);
  const tally = newTally();
  const byCase: BadInputCheck['byCase'] = new Map();
  const samples: string[] = [];
  let next = 0;
  const check = (c: BadCase, answer: Answer): void => {
    count(tally, answer, new Set());
    const entry = byCase.get(c.kind) ?? { tried: 0, failed: 0 };
    entry.tried++;
    const problem = refusalProblem(answer);
    if (problem !== undefined) {
      entry.failed++;
      const example = `${describe(c)} → ${problem}`;
      entry.example ??= example;
      if (samples.length < 12) samples.push(`${c.kind}: ${example}`);
    }
    byCase.set(c.kind, entry);
  };
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const c = cases[next++] as BadCase;
      check(c, await send(server.port, { ...c.spec, deadlineMs: DEADLINE_MS }, ctx.gate).answer);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  // Waiters with lone surrogates, in pairs whose members must not meet, nor wait.
  await Promise.all(
    surrogateMeetings(plan.meetings).map(async ([first, second], i) => {
      await sleep(i * 20);
      const a = send(server.port, { ...first.spec, deadlineMs: DEADLINE_MS }, ctx.gate).answer;
      await sleep(300);
      const b = send(server.port, { ...second.spec, deadlineMs: DEADLINE_MS }, ctx.gate).answer;
      check(first, await a);
      check(second, await b);
    }),
  );
  const failed = [...byCase.values()].reduce((sum, e) => sum + e.failed, 0);
  ctx.log(`malformed (${store}): ${tally.requests} sent, ${failed} not refused with a 4xx JSON error (${[...tally.outcomes.keys()].slice(0, 6).join(', ')})`);
  return {
    name: `malformed requests, ${store} store`,
    what: 'random query strings and bodies under every content type, YAML alias bombs, lone surrogates, deep nesting, prototype keys, huge selectors, unknown fields, slow bodies',
    tally,
    groups: 0,
    violations: noViolations(),
    samples,
    notes: [],
    seconds: (Date.now() - t0) / 1000,
    badInput: { tried: tally.requests, byCase },
  };
}

/** A short description of a case for the report: method, path and the start of the body. */
function describe(c: BadCase): string {
  const body = c.spec.body === undefined ? '' : ` ${String(c.spec.body).slice(0, 60).replace(/\n/g, '\\n')}${String(c.spec.body).length > 60 ? '…' : ''}`;
  const type = c.spec.headers?.['content-type'];
  return `${c.spec.path.slice(0, 70)}${type ? ` [${type}]` : ''}${body}`;
}
