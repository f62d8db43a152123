// What the store writes into Redis and reads back: class and family definitions, request records and group messages.
import { createHash } from 'node:crypto';
import type { Labels, Selector } from '../../selector/types';
import type { RequestParams } from '../../types';
import { anchorOf, selectorKeyOf } from '../matching';
import type { Group, PendingRequest, PendingSnapshot } from '../types';

/** A short, fixed-length id (ids appear in key names and in every record, so they are kept small). */
function shortId(text: string): string {
  return createHash('sha1').update(text).digest('base64url').slice(0, 16);
}

/** The id of a request's class (class keys already include the event and mates). */
export function classId(classKey: string): string {
  return shortId(classKey);
}

/** The id of a request's family: the classes of one (event, mates) that share a selector. */
export function familyId(req: PendingRequest): string {
  return shortId(`${req.params.mates}\n${selectorKeyOf(req.selector)}`);
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

/** The class as the Lua matcher keeps it: labels, family and mates (the selector lives with the family). */
export function encodeClass(req: PendingRequest): string {
  return JSON.stringify({ l: req.params.labels, f: familyId(req), m: req.params.mates });
}

/** The family as the Lua matcher keeps it: the selector's requirements and its anchor (omitted when none). */
export function encodeFamily(req: PendingRequest): string {
  const anchor = anchorOf(req.selector);
  return JSON.stringify({
    r: luaRequirements(req.selector),
    ...(anchor === undefined ? {} : { a: { k: anchor.key, v: anchor.values } }),
  });
}

/** The request as stored and as sent to mates: what /stats shows plus the id. Opaque to Lua, so payloads survive exactly. */
export function encodeRequest(req: PendingRequest): string {
  const snapshot: PendingSnapshot = { id: req.id, params: req.params, createdAt: req.createdAt };
  return JSON.stringify(snapshot);
}

/** A pending record as the matcher keeps it: `owner\nseq\nclass\njson`. */
export interface StoredRecord {
  readonly owner: string;
  readonly snapshot: PendingSnapshot;
}

/** Parse a record read from an event's `reqs` hash. */
export function decodeRecord(raw: string): StoredRecord {
  const ownerEnd = raw.indexOf('\n');
  const seqEnd = raw.indexOf('\n', ownerEnd + 1);
  const classEnd = raw.indexOf('\n', seqEnd + 1);
  if (ownerEnd < 0 || seqEnd < 0 || classEnd < 0) throw new Error('malformed pending record');
  return { owner: raw.slice(0, ownerEnd), snapshot: decodeSnapshot(JSON.parse(raw.slice(classEnd + 1)) as PendingSnapshot) };
}

/** Parse a group message written by the matcher (members in arrival order). */
export function decodeGroup(message: string): Group {
  const raw = JSON.parse(message) as { event: string; members: PendingSnapshot[] };
  return {
    event: raw.event,
    members: raw.members.map((m) => {
      const { id, params } = decodeSnapshot(m);
      return { id, actor: params.actor, payload: params.payload, labels: params.labels };
    }),
  };
}

function decodeSnapshot(raw: PendingSnapshot): PendingSnapshot {
  const params: RequestParams = { ...raw.params, labels: plainLabels(raw.params.labels) };
  return { id: raw.id, params, createdAt: raw.createdAt };
}

/** Labels come back as null-prototype objects, like the ones netsync makes. */
function plainLabels(labels: Labels): Labels {
  return Object.assign(Object.create(null) as Record<string, string>, labels);
}
