// Mate ranges and widening in MemoryStore against the brute-force model, on a clock the test moves (no real time).
import fc from 'fast-check';
import { normalizeParams } from '../../lib/params';
import { MemoryStore, type StoreClock } from '../../lib/stores/memory';
import type { Group, PendingRequest } from '../../lib/stores/types';
import type { SendParams } from '../../lib/types';
import {
  FlexModel, MODEL_LABEL_SETS, MODEL_SELECTORS, type FlexGroup, type FlexRequest, type ModelLabels, type ModelSelector, type ModelSpec,
} from '../helpers/model';

/** Timers that fire only when the test moves the clock, in deadline order (then in the order they were set). */
class ManualClock implements StoreClock {
  #now = 0;
  #seq = 0;
  #timers: { due: number; seq: number; callback: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { due: this.#now + ms, seq: this.#seq++, callback, cancelled: false };
    this.#timers.push(timer);
    return timer;
  }

  clearTimeout(timer: unknown): void {
    (timer as { cancelled: boolean }).cancelled = true;
  }

  /** The earliest live timer's deadline. */
  nextDue(): number | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled);
    return this.#timers.reduce<number | undefined>((min, t) => (min === undefined || t.due < min ? t.due : min), undefined);
  }

  /** Fire every live timer due at `at` (now becomes `at`). */
  fireAt(at: number): void {
    this.#now = at;
    for (;;) {
      const due = this.#timers.filter((t) => !t.cancelled && t.due === at).sort((a, b) => a.seq - b.seq)[0];
      if (due === undefined) return;
      due.cancelled = true;
      due.callback();
    }
  }

  advanceTo(at: number): void {
    this.#now = at;
  }

  get live(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
}

const SPECS: readonly ModelSpec[] = [
  { min: 1, max: 1, linger: 0 },
  { min: 2, max: 2, linger: 0 },
  { min: 0, max: 2, linger: 40 },
  { min: 1, max: 3, linger: 30 },
  { min: 1, max: 2, linger: 60 },
  { min: 2, max: 3, linger: 30 },
];

/** Widening plans: stage selectors are indexes into MODEL_SELECTORS (0 is the default). */
const PLANS: readonly (readonly { after: number; selector: number }[])[] = [
  [],
  [{ after: 30, selector: 1 }],
  [{ after: 20, selector: 4 }, { after: 50, selector: 0 }],
  [{ after: 10, selector: 3 }],
];

function specParams(spec: ModelSpec): Partial<SendParams> {
  return spec.min === spec.max ? { mates: spec.min } : { mates: `${spec.min}..${spec.max}`, linger: `${spec.linger}ms` };
}

function stageText(selector: ModelSelector): string {
  return selector.text ?? '';
}

describe('MemoryStore ranges and widening agree with a brute-force model', () => {
  it('on random arrivals, withdrawals, stage changes and clock steps', async () => {
    const send = fc.record({
      kind: fc.constant('send' as const),
      // Few events, actors and label sets, so that requests share classes (where arrival order inside a class matters).
      event: fc.constantFrom('e1', 'e1', 'e1', 'e2'),
      actor: fc.constantFrom('a', 'a', 'b', 'c'),
      spec: fc.nat({ max: SPECS.length - 1 }),
      labels: fc.oneof(fc.constant(0), fc.nat({ max: MODEL_LABEL_SETS.length - 1 })),
      selector: fc.oneof(fc.constantFrom(0, 1), fc.nat({ max: MODEL_SELECTORS.length - 1 })),
      plan: fc.nat({ max: PLANS.length - 1 }),
    });
    const withdraw = fc.record({ kind: fc.constant('withdraw' as const), pick: fc.nat() });
    const tick = fc.record({ kind: fc.constant('tick' as const), ms: fc.constantFrom(5, 10, 25, 40, 70) });
    const steps = fc.array(fc.oneof({ arbitrary: send, weight: 4 }, { arbitrary: withdraw, weight: 1 }, { arbitrary: tick, weight: 3 }), {
      minLength: 1, maxLength: 50,
    });

    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        const clock = new ManualClock();
        const store = new MemoryStore({ clock });
        const groups: Group[] = [];
        store.onMatch((group) => groups.push(group));
        const model = new FlexModel();
        const requests = new Map<number, PendingRequest>();
        const idOf = (n: number): string => `r${n}`;
        const numberOf = (id: string): number => Number(id.slice(1));
        let next = 0;

        /** The groups the store formed since the last call, as arrival numbers, sorted for comparing. */
        const formed = (): number[][] => groups.splice(0).map((g) => g.members.map((m) => numberOf(m.id))).sort(byFirst);
        const expected = (made: (FlexGroup | undefined)[]): number[][] =>
          made.filter((g): g is FlexGroup => g !== undefined).map((g) => g.map((r) => r.n)).sort(byFirst);
        const checkPending = async (): Promise<void> => {
          expect((await store.pending()).map((p) => p.id)).toEqual(model.pending.map((p) => idOf(p.req.n)));
        };

        /** The earliest stage change due, with its time. */
        const nextStage = (): { at: number; n: number; stage: number } | undefined => {
          let best: { at: number; n: number; stage: number } | undefined;
          for (const p of model.pending) {
            const stage = p.req.stages[p.stage];
            if (stage === undefined) continue;
            const at = p.req.at + stage.after;
            if (best === undefined || at < best.at || (at === best.at && p.req.n < best.n)) best = { at, n: p.req.n, stage: p.stage + 1 };
          }
          return best;
        };

        for (const step of plan) {
          if (step.kind === 'send') {
            const spec = SPECS[step.spec] as ModelSpec;
            const selector = MODEL_SELECTORS[step.selector] as ModelSelector;
            const stages = (PLANS[step.plan] ?? []).map((s) => ({ after: s.after, selector: MODEL_SELECTORS[s.selector] as ModelSelector }));
            const labelSet = MODEL_LABEL_SETS[step.labels] as ModelLabels;
            const req: FlexRequest = {
              n: next++, event: step.event, actor: step.actor, spec, labels: { ...labelSet, actor: step.actor }, selector, stages, at: clock.now(),
            };
            const params: SendParams = { event: req.event, actor: req.actor, labels: { ...labelSet }, ...specParams(spec) };
            if (selector.text !== undefined) params.selector = selector.text;
            if (stages.length > 0) params.widen = stages.map((s) => ({ after: `${s.after}ms`, selector: stageText(s.selector) }));
            const normalized = normalizeParams(params);
            const pending: PendingRequest = { id: idOf(req.n), ...normalized, createdAt: clock.now() };
            requests.set(req.n, pending);
            await store.offer(pending);
            expect(formed()).toEqual(expected([model.arrive(req)]));
          } else if (step.kind === 'withdraw') {
            const target = model.pending[step.pick % Math.max(1, model.pending.length)];
            if (target === undefined) continue;
            expect(await store.withdraw(idOf(target.req.n))).toBe(true);
            model.withdraw(target.req.n);
            expect(formed()).toEqual([]);
          } else {
            const until = clock.now() + step.ms;
            for (;;) {
              const windowDue = clock.nextDue();
              const deadline = model.nextDeadline();
              // The store's timers are exactly the model's open windows.
              expect(windowDue).toEqual(deadline?.at);
              const stage = nextStage();
              const at = Math.min(windowDue ?? Infinity, stage?.at ?? Infinity);
              if (at > until) break;
              if (windowDue !== undefined && windowDue <= (stage?.at ?? Infinity)) {
                // Windows first when a stage falls due at the same moment, in the model as in the test's order.
                clock.fireAt(windowDue);
                model.now = windowDue;
                const made: (FlexGroup | undefined)[] = [];
                for (let d = model.nextDeadline(); d !== undefined && d.at === windowDue; d = model.nextDeadline()) made.push(model.windowEnds(d.bucket));
                expect(formed()).toEqual(expected(made));
              } else if (stage !== undefined) {
                clock.advanceTo(stage.at);
                model.now = stage.at;
                const req = requests.get(stage.n) as PendingRequest;
                const target = req.stages[stage.stage - 1];
                if (target === undefined) throw new Error('no such stage');
                const change = { stage: stage.stage, selector: target.selector, selectorText: target.selectorText, classKey: target.classKey };
                expect(await store.update(req.id, change)).toBe(true);
                const made = model.widen(stage.n, stage.stage);
                const got = groups.slice();
                expect(formed()).toEqual(expected([made]));
                // A widening member shows its stage at the match.
                for (const group of got) {
                  for (const member of group.members) {
                    const entry = requests.get(numberOf(member.id)) as PendingRequest;
                    if (entry.stages.length === 0) expect(member.stage).toBeUndefined();
                    else expect(typeof member.stage).toBe('number');
                  }
                }
              }
              await checkPending();
            }
            clock.advanceTo(until);
            model.now = until;
          }
          await checkPending();
        }
        await store.close();
        expect(store.lingeringWindows).toBe(0);
        expect(clock.live).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

function byFirst(a: number[], b: number[]): number {
  return (a[0] ?? 0) - (b[0] ?? 0);
}
