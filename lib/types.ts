// The public data shapes of netsync: what a caller sends, what every member of a group receives, what /stats shows.
import type { Labels } from './selector/types';

export type { Labels } from './selector/types';

/** Any JSON value: the payload a member shares with its mates. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a caller asks for (README, HTTP API reference). Checked at run time by `normalizeParams`, so the HTTP layer may pass
 * fields as it decoded them (`mates: '2'`, `labels: 'k=v,k2=v2'`, `labels: { level: 3 }`).
 */
export interface SendParams {
  /** Requests only ever match requests with the identical event name. */
  event: string;
  /** The caller's name; the default label and the default selector. */
  actor: string;
  /** Shared with every mate when the group forms. Default `null`. */
  payload?: JsonValue;
  /**
   * How many *other* requests must join: 1 a pair, 2 three parties, 0 resolve at once. Default 1. Or a range:
   * `{ min, max }` (or the text `'MIN..MAX'`): at least MIN others, at most MAX, waiting `linger` for more.
   */
  mates?: number | string | MatesRange;
  /** Only with a range: how long a possible group waits for more mates (`'5s'`, `'200ms'`, seconds as a number). Default 5s. */
  linger?: string | number;
  /**
   * Selector widening: stages `{ after, selector }` in strictly increasing `after` order (at most 8). From
   * `after` (a duration, or seconds as a number) past its arrival, the request's selector is the stage's;
   * an empty stage selector is the default `actor != <actor>`. The text form `'AFTER:SELECTOR'` is accepted too.
   */
  widen?: string | readonly (string | WidenStage)[];
  /** Labels as a map or as `k1=v1,k2=v2`. The `actor` label is always present. */
  labels?: Readonly<Record<string, string | number | boolean>> | string;
  /** A Kubernetes label selector the *other* members' labels must satisfy. Default `actor != <actor>`. */
  selector?: string;
}

/** A mate range: at least `min` others, at most `max`. */
export interface MatesRange {
  min: number | string;
  max: number | string;
}

/** One widening stage as a caller gives it. */
export interface WidenStage {
  after: string | number;
  selector?: string;
}

/** One widening stage as /stats shows it: canonical duration text, and the selector text in force. */
export interface WidenStageParams {
  readonly after: string;
  readonly selector: string;
}

/** Parameters after validation and defaults: what /stats shows under `params`. */
export interface RequestParams {
  readonly event: string;
  readonly actor: string;
  readonly payload: JsonValue;
  readonly labels: Labels;
  /** The selector as the caller wrote it, or the default `actor != <actor>`. */
  readonly selector: string;
  /** A number for an exact count, the text `MIN..MAX` for a range. */
  readonly mates: number | string;
  /** Only for a range: the linger window as canonical duration text (`5s`, `200ms`). */
  readonly linger?: string;
  /** Only for a request with stages. */
  readonly widen?: readonly WidenStageParams[];
}

/** One member of a formed group. */
export interface Member {
  readonly actor: string;
  readonly payload: JsonValue;
  readonly labels: Labels;
  /** Only for a member whose request has widen stages: its stage when the group formed (0 = its own selector). */
  readonly stage?: number;
}

/** What every member of a group receives, identical for all of them. */
export interface Match {
  /** actor → payload, as in the Go original (a later member with the same actor name wins here; `members` keeps all). */
  readonly payloads: Readonly<Record<string, JsonValue>>;
  /** Every member, in arrival order. */
  readonly members: readonly Member[];
}

/** One pending request as /stats shows it. */
export interface StatsEntry {
  readonly params: RequestParams;
  /** ISO 8601 time of arrival. */
  readonly created_at: string;
  /** Only for a request with widen stages: its current stage (0 = the original selector). */
  readonly stage?: number;
  /** Only for a request with widen stages: its current selector. */
  readonly selector?: string;
}

/** The /stats tree: event → actor → request id → entry. */
export type StatsTree = Record<string, Record<string, Record<string, StatsEntry>>>;
