// Pairs and triples all launched at once, in one event or each in its own (by selector or by event); every answer checked.
import type { SoakContext } from '../context';
import { checkGroups, sent, type Sent } from '../ledger';
import { newTally, type ScenarioResult } from '../outcomes';
import type { Instance } from '../servers';
import { launch, settle, shuffled } from '../traffic';

/** Where the members of one group meet. */
export type Layout = 'one-event' | 'by-selector' | 'by-event';

/** One matching scenario. */
export interface MatchingPlan {
  readonly size: 2 | 3;
  readonly groups: number;
  readonly layout: Layout;
}

const LAYOUT_WHAT: Record<Layout, string> = {
  'one-event': 'all in one event, default selectors (anyone but yourself)',
  'by-selector': 'one event, each group private by labels and selector (`grp=<g>`; in triples the maker also wants `role!=maker`)',
  'by-event': 'each group in its own event, default selectors',
};

/** The scenario's title, e.g. `5000 pairs, by-selector`. */
export function matchingName(plan: MatchingPlan): string {
  return `${plan.groups} ${plan.size === 2 ? 'pairs' : 'triples'}, ${plan.layout}`;
}

/** The requests of group `g`. */
function groupRequests(tag: string, plan: MatchingPlan, g: number): Sent[] {
  const out: Sent[] = [];
  for (let k = 0; k < plan.size; k++) {
    const actor = `a${g}_${k}`;
    const base = { actor, payload: `${tag}:${g}:${k}`, mates: plan.size - 1 };
    if (plan.layout === 'one-event') out.push(sent({ ...base, event: tag, labels: {}, selector: undefined }));
    else if (plan.layout === 'by-event') out.push(sent({ ...base, event: `${tag}-${g}`, labels: {}, selector: undefined }));
    else {
      const maker = plan.size === 3 && k === 2;
      const labels = { grp: `g${g}`, role: maker ? 'maker' : 'player' };
      const selector = [{ key: 'grp', op: '=' as const, value: `g${g}` }, ...(maker ? [{ key: 'role', op: '!=' as const, value: 'maker' }] : [])];
      out.push(sent({ ...base, event: tag, labels, selector }));
    }
  }
  return out;
}

/**
 * Launch every request of the plan at once, in random order (in waves of whole groups when the open-file
 * limit cannot hold them all), wait for every answer and check the groups.
 */
export async function runMatching(ctx: SoakContext, server: Instance, plan: MatchingPlan): Promise<ScenarioResult> {
  const t0 = Date.now();
  const tag = `${ctx.tag}-${plan.size}${plan.layout}`;
  const tally = newTally();
  const all: Sent[] = [];
  const perWave = Math.max(1, Math.floor(ctx.maxOpen / plan.size));
  const notes: string[] = [];
  if (perWave < plan.groups) notes.push(`sent in waves of ${perWave} groups (open-file limit)`);
  for (let first = 0; first < plan.groups; first += perWave) {
    const wave: Sent[] = [];
    for (let g = first; g < Math.min(plan.groups, first + perWave); g++) wave.push(...groupRequests(tag, plan, g));
    all.push(...wave);
    const flights = shuffled(wave).map((s) => launch(ctx, server.port, s));
    await settle(flights, tally, new Set());
  }
  const check = checkGroups(all, true);
  return {
    name: matchingName(plan),
    what: LAYOUT_WHAT[plan.layout],
    tally,
    groups: check.groups,
    violations: check.violations,
    samples: check.samples,
    notes,
    seconds: (Date.now() - t0) / 1000,
  };
}
