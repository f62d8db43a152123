// What the soak sent and got back, and the checks of the matching rules (ARCHITECTURE.md) over every group the server answered with.
import type { Answer } from './client';

/** One requirement of the selectors the soak sends: `key=value` or `key!=value`. */
export interface Requirement {
  readonly key: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** A rendezvous request the soak sent; its payload is unique, so a group's members name their requests. */
export interface Sent {
  readonly event: string;
  readonly actor: string;
  readonly payload: string;
  readonly mates: number;
  /** Labels as sent, without the `actor` label the server adds. */
  readonly labels: Readonly<Record<string, string>>;
  /** Undefined: the default selector, `actor != <actor>`. */
  readonly selector: readonly Requirement[] | undefined;
  /** Cut by the soak before any mate for it was sent: it must never appear in a group (a ghost). */
  abortedEarly: boolean;
  /** Cut when a bounded run ended: a group formed in the same instant is a race, not a violation. */
  abandoned: boolean;
  answer?: Answer;
}

/** A new request record. */
export function sent(fields: Omit<Sent, 'abortedEarly' | 'abandoned' | 'answer'>): Sent {
  return { ...fields, abortedEarly: false, abandoned: false };
}

/** The /event path of `s`, everything in the query string. */
export function pathOf(s: Sent, timeout = '120s'): string {
  const query = new URLSearchParams({ event: s.event, actor: s.actor, payload: s.payload, mates: String(s.mates), timeout });
  const labels = Object.entries(s.labels);
  if (labels.length > 0) query.set('labels', labels.map(([k, v]) => `${k}=${v}`).join(','));
  if (s.selector !== undefined) query.set('selector', s.selector.map((r) => `${r.key}${r.op}${r.value}`).join(','));
  return `/event?${query.toString()}`;
}

/** Kinds of broken promise, counted per scenario. */
export interface Violations {
  /** A group whose size is not mates+1. */
  wrongSize: number;
  /** Two members whose selector and labels do not accept each other, or whose event or mates differ. */
  nonMutual: number;
  /** A member the soak withdrew before its mates were sent. */
  ghost: number;
  /** A request in two groups (or twice in one). */
  double: number;
  /** A member answered with an error while its mates got the group. */
  split: number;
  /** A member that never got the group it is in (nor an error). */
  lost: number;
  /** An answer naming a request the soak never sent, or a group that does not list the request it answered. */
  foreign: number;
  /** A request that got no answer although every mate it needed was there (or, for bad input, at all). */
  unanswered: number;
}

/** Zero of every kind. */
export function noViolations(): Violations {
  return { wrongSize: 0, nonMutual: 0, ghost: 0, double: 0, split: 0, lost: 0, foreign: 0, unanswered: 0 };
}

/** Sum of every kind. */
export function totalOf(v: Violations): number {
  return Object.values(v).reduce((sum, n) => sum + n, 0);
}

/** Add `more` into `into`. */
export function addViolations(into: Violations, more: Violations): void {
  for (const key of Object.keys(into) as Array<keyof Violations>) into[key] += more[key];
}

/** What one member of a group looks like in an answer. */
interface MemberView {
  readonly actor?: unknown;
  readonly payload?: unknown;
  readonly labels?: unknown;
}

/** Result of checking the groups of a set of requests. */
export interface GroupCheck {
  readonly groups: number;
  readonly violations: Violations;
  /** A few descriptions of violations, for the report. */
  readonly samples: string[];
}

/**
 * Check every 200 answer among `requests`: the group it names has mates+1 members, all known, all answered
 * with this very text, each accepted by every other's selector; none was withdrawn early or is in two groups.
 * `expectAll`: every request not cut by the soak had all its mates, so a missing answer is a violation.
 */
export function checkGroups(requests: readonly Sent[], expectAll: boolean): GroupCheck {
  const violations = noViolations();
  const samples: string[] = [];
  const note = (kind: keyof Violations, what: string): void => {
    violations[kind]++;
    if (samples.length < 8) samples.push(`${kind}: ${what}`);
  };
  const byPayload = new Map<string, Sent>();
  for (const s of requests) byPayload.set(s.payload, s);
  const groups = new Map<string, Sent[]>();
  for (const s of requests) {
    if (s.answer?.status !== 200) continue;
    const receivers = groups.get(s.answer.body);
    if (receivers) receivers.push(s);
    else groups.set(s.answer.body, [s]);
  }
  const grouped = new Set<Sent>();
  for (const [body, receivers] of groups) {
    const members = membersOf(body);
    const first = receivers[0] as Sent;
    if (members === undefined) {
      note('foreign', `unreadable 200 answer to ${first.actor}: ${body.slice(0, 120)}`);
      continue;
    }
    if (members.length !== first.mates + 1) note('wrongSize', `${members.length} members for mates=${first.mates} (${first.event})`);
    const known: Sent[] = [];
    const seen = new Set<Sent>();
    for (const m of members) {
      const s = typeof m.payload === 'string' ? byPayload.get(m.payload) : undefined;
      if (s === undefined) {
        note('foreign', `unknown member ${JSON.stringify(m).slice(0, 120)}`);
        continue;
      }
      if (seen.has(s)) note('double', `${s.actor} twice in one group`);
      seen.add(s);
      grouped.add(s);
      known.push(s);
      if (!sameLabels(m.labels, { ...s.labels, actor: s.actor })) note('nonMutual', `${s.actor} echoed with labels ${JSON.stringify(m.labels)}`);
      if (s.abortedEarly) note('ghost', `${s.actor} (${s.event}) was withdrawn before its mates came`);
      else if (s.answer?.status === 200 && s.answer.body !== body) note('double', `${s.actor} is in two groups`);
      else if (s.answer !== undefined && s.answer.status !== 200 && s.answer.status !== 0) {
        note('split', `${s.actor} got ${s.answer.status} ${s.answer.body.slice(0, 100)} while its mates got the group`);
      } else if ((s.answer === undefined || s.answer.status === 0) && !s.abandoned) note('lost', `${s.actor} never got its group`);
    }
    for (const r of receivers) if (!seen.has(r)) note('foreign', `${r.actor} got a group that does not list it`);
    if (!mutual(known)) note('nonMutual', `group ${known.map((s) => s.actor).join(', ')}`);
  }
  if (expectAll) {
    for (const s of requests) {
      // A member of a group without its answer is already counted as lost.
      if (!s.abortedEarly && !s.abandoned && !grouped.has(s) && (s.answer === undefined || s.answer.status === 0)) {
        note('unanswered', `${s.actor} (${s.event}): ${s.answer?.failure ?? 'no answer'}`);
      }
    }
  }
  return { groups: groups.size, violations, samples };
}

function membersOf(body: string): MemberView[] | undefined {
  try {
    const parsed = JSON.parse(body) as { members?: unknown };
    return Array.isArray(parsed.members) ? (parsed.members as MemberView[]) : undefined;
  } catch {
    return undefined;
  }
}

function sameLabels(echoed: unknown, labels: Readonly<Record<string, string>>): boolean {
  if (typeof echoed !== 'object' || echoed === null) return false;
  const entries = Object.entries(echoed);
  return entries.length === Object.keys(labels).length && entries.every(([k, v]) => labels[k] === v);
}

/** Every member has the event and mates of the others, and accepts every other's labels. */
function mutual(members: readonly Sent[]): boolean {
  return members.every((a) =>
    members.every((b) => a === b || (a.event === b.event && a.mates === b.mates && accepts(a, { ...b.labels, actor: b.actor }))),
  );
}

/** Whether `s`'s selector (the default one when it has none) matches `labels`; an independent reading of the grammar's two operators. */
export function accepts(s: Sent, labels: Readonly<Record<string, string>>): boolean {
  const requirements = s.selector ?? [{ key: 'actor', op: '!=', value: s.actor }];
  return requirements.every((r) => (r.op === '=' ? labels[r.key] === r.value : labels[r.key] !== r.value));
}
