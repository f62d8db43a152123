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
  /** How many *other* requests must join: 1 a pair, 2 three parties, 0 resolve at once. Default 1. */
  mates?: number | string;
  /** Labels as a map or as `k1=v1,k2=v2`. The `actor` label is always present. */
  labels?: Readonly<Record<string, string | number | boolean>> | string;
  /** A Kubernetes label selector the *other* members' labels must satisfy. Default `actor != <actor>`. */
  selector?: string;
}

/** Parameters after validation and defaults: what /stats shows under `params`. */
export interface RequestParams {
  readonly event: string;
  readonly actor: string;
  readonly payload: JsonValue;
  readonly labels: Labels;
  /** The selector as the caller wrote it, or the default `actor != <actor>`. */
  readonly selector: string;
  readonly mates: number;
}

/** One member of a formed group. */
export interface Member {
  readonly actor: string;
  readonly payload: JsonValue;
  readonly labels: Labels;
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
}

/** The /stats tree: event → actor → request id → entry. */
export type StatsTree = Record<string, Record<string, Record<string, StatsEntry>>>;
