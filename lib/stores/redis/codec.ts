// What the store writes into Redis and reads back: class and family definitions, request records and group messages.
import { createHash } from 'node:crypto';
import type { Labels, Selector } from '../../selector/types';
import type { RequestParams } from '../../types';
import { anchorOf, selectorKeyOf, specKeyOf } from '../matching';
import type { Group, GroupMember, PendingRequest, PendingSnapshot } from '../types';

/** A short, fixed-length id (ids appear in key names and in every record, so they are kept small). */
function shortId(text: string): string {
  return createHash('sha1').update(text).digest('base64url').slice(0, 16);
}

/** The id of a request's class (class keys already include the event and mates). */
export function classId(classKey: string): string {
  return shortId(classKey);
}

/**
 * A request's current selector and class: stage 0's, or those of the stage it was moved to. The matcher
 * files a request under these; its record keeps the original request as sent.
 */
export interface CurrentClass {
  readonly stage: number;
  readonly selector: Selector;
  readonly classKey: string;
}

/** The id of a family: the classes of one (event, spec) that share a selector. */
export function familyId(req: PendingRequest, current: CurrentClass): string {
  return shortId(`${specKeyOf(req.spec)}\n${selectorKeyOf(current.selector)}`);
}

/** A requirement as the Lua evaluator reads it. */
export interface LuaRequirement {
  readonly k: string;
  readonly o: string;
  readonly v: readonly string[];
}

/** A compiled selector as the Lua evaluator reads it (parsed once, in TypeScript). */
export function luaRequirements(selector: Selector): LuaRequirement[] {
  return selector.requirements.map((r) => ({ k: r.key, o: r.operator, v: r.values }));
}

/** The class as the Lua matcher keeps it: labels, family and spec key (the selector lives with the family). */
export function encodeClass(req: PendingRequest, current: CurrentClass): string {
  return JSON.stringify({ l: req.params.labels, f: familyId(req, current), m: specKeyOf(req.spec) });
}

/** The family as the Lua matcher keeps it: the selector's requirements and its anchor (omitted when none). */
export function encodeFamily(current: CurrentClass): string {
  const anchor = anchorOf(current.selector);
  return JSON.stringify({
    r: luaRequirements(current.selector),
    ...(anchor === undefined ? {} : { a: { k: anchor.key, v: anchor.values } }),
  });
}

/** The request as stored and as sent to mates: what /stats shows plus the id. Opaque to Lua, so payloads survive exactly. */
export function encodeRequest(req: PendingRequest): string {
  const snapshot: PendingSnapshot = { id: req.id, params: req.params, createdAt: req.createdAt };
  return JSON.stringify(snapshot);
}

/** A pending record as the matcher keeps it: `owner\nseq\nclass\nstage\njson`. */
export interface StoredRecord {
  readonly owner: string;
  readonly snapshot: PendingSnapshot;
}

/** Parse a record read from an event's `reqs` hash. */
export function decodeRecord(raw: string): StoredRecord {
  const ownerEnd = raw.indexOf('\n');
  const seqEnd = raw.indexOf('\n', ownerEnd + 1);
  const classEnd = raw.indexOf('\n', seqEnd + 1);
  const stageEnd = raw.indexOf('\n', classEnd + 1);
  if (ownerEnd < 0 || seqEnd < 0 || classEnd < 0 || stageEnd < 0) throw new Error('malformed pending record');
  const stage = Number(raw.slice(classEnd + 1, stageEnd));
  return { owner: raw.slice(0, ownerEnd), snapshot: decodeSnapshot(JSON.parse(raw.slice(stageEnd + 1)) as PendingSnapshot, stage) };
}

/** Parse a group message written by the matcher (members in arrival order, with their stages). */
export function decodeGroup(message: string): Group {
  const raw = JSON.parse(message) as { event: string; members: PendingSnapshot[]; stages?: number[] };
  return {
    event: raw.event,
    members: raw.members.map((m, i): GroupMember => {
      const { id, params } = decodeSnapshot(m, 0);
      const member = { id, actor: params.actor, payload: params.payload, labels: params.labels };
      // Only members that can widen show a stage, so answers without widening look as they always did.
      return params.widen === undefined ? member : { ...member, stage: raw.stages?.[i] ?? 0 };
    }),
  };
}

/** Whether a pub/sub message is a linger-window notice (anything else on the channel is a group). */
export function isWindowNotice(message: string): boolean {
  return message.startsWith('{"window":');
}

/** A linger window that opened, as the matcher announces it to the owners of its possible group. */
export interface WindowNotice {
  readonly event: string;
  /** The bucket's spec key. */
  readonly spec: string;
  /** Server ms: when it ends, and when it opened (so the wait is measured on Redis's clock alone). */
  readonly deadline: number;
  readonly now: number;
  /** The possible group's request ids (every owner's). */
  readonly ids: readonly string[];
}

export function decodeWindowNotice(message: string): WindowNotice {
  return (JSON.parse(message) as { window: WindowNotice }).window;
}

function decodeSnapshot(raw: PendingSnapshot, stage: number): PendingSnapshot {
  const params: RequestParams = { ...raw.params, labels: plainLabels(raw.params.labels) };
  return { id: raw.id, params, createdAt: raw.createdAt, stage };
}

/** Labels come back as null-prototype objects, like the ones netsync makes. */
function plainLabels(labels: Labels): Labels {
  return Object.assign(Object.create(null) as Record<string, string>, labels);
}
