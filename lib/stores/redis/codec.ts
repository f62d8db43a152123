// What the store writes into Redis and reads back: class definitions, request records and group messages.
import { createHash } from 'node:crypto';
import type { Labels, Selector } from '../../selector/types';
import type { RequestParams } from '../../types';
import type { Group, PendingRequest, PendingSnapshot } from '../types';

/** A short, fixed-length id for a class key (class keys can be long; ids appear in key names). */
export function classId(classKey: string): string {
  return createHash('sha1').update(classKey).digest('hex');
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

/** The class as the Lua matcher reads it: labels and the selector's requirements. */
export function encodeClass(req: PendingRequest): string {
  return JSON.stringify({ l: req.params.labels, r: luaRequirements(req.selector) });
}

/** The request as stored and as sent to mates: what /stats shows plus the id. Opaque to Lua, so payloads survive exactly. */
export function encodeRequest(req: PendingRequest): string {
  const snapshot: PendingSnapshot = { id: req.id, params: req.params, createdAt: req.createdAt };
  return JSON.stringify(snapshot);
}

/** A pending record as the matcher keeps it: `owner\nseq\nclass\nmates\njson`. */
export interface StoredRecord {
  readonly owner: string;
  readonly snapshot: PendingSnapshot;
}

/** Parse a record read from an event's `reqs` hash. */
export function decodeRecord(raw: string): StoredRecord {
  let at = -1;
  let ownerEnd = -1;
  for (let i = 0; i < 4; i++) {
    at = raw.indexOf('\n', at + 1);
    if (at < 0) throw new Error('malformed pending record');
    if (i === 0) ownerEnd = at;
  }
  return { owner: raw.slice(0, ownerEnd), snapshot: decodeSnapshot(JSON.parse(raw.slice(at + 1)) as PendingSnapshot) };
}

/** Parse a group message published by the matcher (members in arrival order). */
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
