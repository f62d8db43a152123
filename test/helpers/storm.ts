// A storm of random sends over several hubs, some aborted soon after: the raw material of the cross-instance checks.
import type { Netsync } from '../../lib/netsync';
import type { SendParams } from '../../lib/types';
import { MODEL_LABEL_SETS, MODEL_SELECTORS, type ModelRequest } from './model';
import { type Outcome, settle } from './outcome';
import type { Random } from './random';

/** What a storm left to check. */
export interface Storm {
  /** Every request by the id its hub gave it, as the model sees it. */
  readonly requests: Map<string, ModelRequest>;
  readonly outcomes: Map<string, Promise<Outcome>>;
  /** The ids whose callers aborted. */
  readonly aborted: Set<string>;
}

/** Where a storm's requests are drawn from (labels and selectors come from the model's lists). */
export interface StormChoices {
  readonly events: readonly string[];
  readonly actors: readonly string[];
  readonly mates: readonly number[];
}

/**
 * `count` sends, to `hubs` in turn, each drawn with `next`; about 30% are aborted within 30 ms. Resolves once
 * every abort has happened (the sends may still be pending).
 */
export async function sendStorm(hubs: readonly Netsync[], count: number, next: Random, choices: StormChoices): Promise<Storm> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const storm: Storm = { requests: new Map(), outcomes: new Map(), aborted: new Set() };
  const aborts: Promise<void>[] = [];
  for (let n = 0; n < count; n++) {
    const hub = hubs[n % hubs.length] as Netsync;
    const labels = pick(MODEL_LABEL_SETS);
    const selector = pick(MODEL_SELECTORS);
    const req: Omit<ModelRequest, 'n'> = {
      event: pick(choices.events), actor: pick(choices.actors), mates: pick(choices.mates), labels: { ...labels }, selector,
    };
    const params: SendParams = { event: req.event, actor: req.actor, mates: req.mates, labels: { ...labels }, payload: n };
    if (selector.text !== undefined) params.selector = selector.text;
    const controller = new AbortController();
    let id = '';
    hub.once('pending', (p) => {
      id = p.id;
    });
    const outcome = settle(hub.send(params, { signal: controller.signal }));
    storm.requests.set(id, { ...req, n, labels: { ...labels, actor: req.actor } });
    storm.outcomes.set(id, outcome);
    if (next() < 0.3) {
      const delay = Math.floor(next() * 30);
      aborts.push(new Promise((resolve) => setTimeout(() => {
        storm.aborted.add(id);
        controller.abort(new Error('aborted'));
        resolve();
      }, delay)));
    }
  }
  await Promise.all(aborts);
  return storm;
}
