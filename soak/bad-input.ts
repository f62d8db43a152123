// Malformed /event requests, each with a name for its kind; every one must be refused with a 4xx JSON error.
import { seeded, type Random } from '../test/helpers/random';
import type { RequestSpec } from './client';

/** One malformed request and the kind it belongs to. */
export interface BadCase {
  readonly kind: string;
  readonly spec: Omit<RequestSpec, 'deadlineMs'>;
}

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** Content types the router reads, plus ones it does not and none at all. */
const CONTENT_TYPES: ReadonlyArray<string | undefined> = [
  'application/json',
  'application/yaml',
  'application/x-yaml',
  'text/yaml',
  'application/x-www-form-urlencoded',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  undefined,
];

/** One field that makes any request invalid whatever else it holds, as query text. */
const POISON: readonly string[] = [
  'mate=2',
  'mates=-1',
  'mates=1.5',
  'mates=65',
  'mates=two',
  'labels=a%3D%3Db',
  'labels=-bad-=x',
  'labels=actor%3Dsomeone-else',
  'selector=a%20in%20(',
  'selector=%3D%3D%3D',
  'selector=a%3Db%2C',
  'timeout=-5',
  'timeout=forever',
  'input=xml',
  'output=csv',
  'event=',
  'actor=',
  'event=a&event=b',
  'zzz=1',
  '__proto__=x',
  'constructor=x',
];

/** Pieces of query text, already safe to put in a request line (broken escapes included on purpose). */
const TEXT_SNIPPETS: readonly string[] = ['', 'e', 'a+b', '%20', '%', '%ZZ', '%00', '%F0%9F%98%80', '%C3%28', '%ED%A0%80', '&&', '==', '=,', '(', ')', '!', 'in', '%C3%A9'];

function randomToken(random: Random): string {
  let out = '';
  const n = Math.floor(random() * 4);
  for (let i = 0; i < n; i++) out += pick(random, TEXT_SNIPPETS);
  return out;
}

/** A random query string around one poison field. */
function randomQuery(random: Random, poison: string): string {
  const fields = ['event', 'actor', 'payload', 'mates', 'labels', 'selector', 'timeout', 'x', '', 'Event', 'labels[a]'];
  const parts = [poison];
  const n = Math.floor(random() * 5);
  for (let i = 0; i < n; i++) {
    const name = pick(random, fields);
    // Fields the poison also names would make it a duplicate-field error rather than the poison's own.
    if (name !== '' && poison.startsWith(`${name}=`)) continue;
    parts.push(`${name}=${randomToken(random)}`);
  }
  if (!poison.startsWith('event=') && !parts.some((p) => p.startsWith('event='))) parts.push(`event=bad${Math.floor(random() * 1e9)}`);
  if (!poison.startsWith('actor=') && !parts.some((p) => p.startsWith('actor='))) parts.push('actor=x');
  // Should a poison ever be accepted, mates=0 answers at once (a visible 200) instead of waiting for a mate.
  if (!parts.some((p) => p.startsWith('mates='))) parts.push('mates=0');
  return parts.sort(() => random() - 0.5).join('&');
}

/** Bodies that are wrong in some way, as text, with the content type they claim. */
function randomBody(random: Random, id: number): { body: string; type: string | undefined } {
  const type = CONTENT_TYPES[id % CONTENT_TYPES.length];
  const event = `bad${id}`;
  const shapes: Array<() => string> = [
    () => `{"event":"${event}","actor":"a","mates":0,"mate":1}`,
    () => `{"event":"${event}","actor":"a","mates":"x"}`,
    () => `{"event":${Math.floor(random() * 99)}.5e999,"actor":[]}`,
    () => `{"event":"${event}","actor":{"a":1}}`,
    () => `{"event":"${event}","actor":"a","labels":[1,2]}`,
    () => `{"event":"${event}","actor":"a","labels":{"k":{"nested":true}}}`,
    () => `{"event":"${event}","actor":"a","selector":"x in (a,,b"}`,
    () => `{"event":"${event}","actor":"a","timeout":"soon"}`,
    () => `["event","${event}"]`,
    () => '"just a string"',
    () => '12345',
    () => 'null',
    () => `{"event":"${event}","actor":"a"`,
    () => `event: ${event}\nactor: a\n  bad: indent: here`,
    () => `{event: ${event}, actor: a, mates: 0, extra: 1}`,
    () => `event: ${event}\nactor: !!js/function "function(){}"\n`,
    () => `event: ${event}\nactor: a\nmates: 0\n<<: {extra: 1}\n`,
    () => `event: ${event}\nevent: again\nactor: a\n`,
    () => `event=${event}&actor=a&mates=0&zz=1`,
    () => `event=${event}&actor=a&mates=0&mates=1`,
    () => `{"event":"${event}","actor":"a","mates":0,"__proto__":{"x":1}}`,
    () => `{"event":"${event}","actor":"a","mates":0,"constructor":{"prototype":{"x":1}}}`,
    () => `{"__proto__":{"event":"${event}","actor":"a","mates":0}}`,
    () => `{"event":"${event}","actor":"a","mates":0,"labels":{"__proto__":"x"}}`,
    () => Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256))).toString('latin1'),
  ];
  let body = pick(random, shapes)();
  // A form body that happens to be a valid request would wait or answer 200; keep every form body broken.
  if (type === 'application/x-www-form-urlencoded' && !/zz=|mates=1$/.test(body)) body = `${body}&zz=1`;
  return { body, type };
}

/** The alias bomb of the issue: `levels` levels of 8-way aliases over a string of `bytes` bytes, as YAML. */
export function aliasBomb(levels: number, bytes: number, event: string): string {
  const lines = [`s0: &s0 "${'x'.repeat(bytes)}"`];
  for (let level = 1; level <= levels; level++) {
    lines.push(`s${level}: &s${level} [${Array.from({ length: 8 }, () => `*s${level - 1}`).join(', ')}]`);
  }
  // The anchors live under an unknown field too, so a server that first checks fields still sees the bomb.
  return `event: ${event}\nactor: a\nmates: 0\npayload:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

/** Lone surrogates, as JSON escapes in raw text: valid JSON, not valid Unicode. */
function surrogateCases(id: number): BadCase[] {
  const lone = ['\\ud800', '\\udbff', '\\udc00', '\\udfff'];
  const out: BadCase[] = [];
  for (const s of lone) {
    const bodies = [
      `{"event":"e${id}${s}","actor":"a","mates":0}`,
      `{"event":"e${id}","actor":"a${s}","mates":0}`,
      `{"event":"e${id}","actor":"a","mates":0,"payload":"p${s}"}`,
      `{"event":"e${id}","actor":"a","mates":0,"payload":{"deep":["x${s}"]}}`,
      `{"event":"e${id}","actor":"a","mates":0,"labels":{"k":"v${s}"}}`,
      `{"event":"e${id}","actor":"a","mates":0,"selector":"k=v${s}"}`,
    ];
    for (const body of bodies) out.push({ kind: 'lone surrogate (JSON)', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body } });
    out.push({
      kind: 'lone surrogate (YAML)',
      spec: { path: '/event?input=yaml', headers: { 'content-type': 'text/plain' }, body: `{event: "e${id}${s}", actor: a, mates: 0}` },
    });
  }
  return out;
}

/**
 * Two waiters (mates=1) whose events differ only in a lone surrogate, sent one after the other: both must be
 * refused at once. A server that takes them may let them meet (the events collide once encoded) or leave
 * them waiting until their 2 s timeout.
 */
export function surrogateMeetings(count: number): Array<[BadCase, BadCase]> {
  const kind = 'lone surrogate, two waiters (mates=1)';
  const one = (event: string, actor: string): BadCase => ({
    kind,
    spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":"${event}","actor":"${actor}","mates":1,"timeout":"2s"}` },
  });
  return Array.from({ length: count }, (_, i) => [one(`meet${i}\\ud800`, 'a'), one(`meet${i}\\udbff`, 'b')]);
}

/** Nesting past any sane depth, in the payload and where a string belongs. */
function deepCases(id: number, random: Random): BadCase[] {
  const depth = 200 + Math.floor(random() * 20000);
  const json = (inner: string): string => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
  const objects = `${'{"a":'.repeat(Math.min(depth, 10000))}1${'}'.repeat(Math.min(depth, 10000))}`;
  return [
    { kind: 'deep nesting', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":"e${id}","actor":"a","mates":0,"payload":${json('1')}}` } },
    { kind: 'deep nesting', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":"e${id}","actor":"a","mates":0,"payload":${objects}}` } },
    { kind: 'deep nesting', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":${json('"e"')},"actor":"a","mates":0}` } },
    { kind: 'deep nesting', spec: { path: '/event', headers: { 'content-type': 'application/yaml' }, body: `event: e${id}\nactor: a\nmates: 0\npayload: ${json('1')}\n` } },
  ];
}

/** Selectors of many kilobytes that fail at their very end, in query and body, and one body over the size limit. */
function hugeSelectorCases(id: number, random: Random): BadCase[] {
  const requirements = (n: number): string => Array.from({ length: n }, (_, i) => `k${i}x${id}=v${Math.floor(random() * 1e6)}`).join(',');
  const inQuery = `${requirements(300)},=`;
  return [
    { kind: 'huge selector', spec: { path: `/event?event=e${id}&actor=a&mates=0&selector=${encodeURIComponent(inQuery)}` } },
    {
      kind: 'huge selector',
      spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: `e${id}`, actor: 'a', mates: 0, selector: `${requirements(2500)},a in (` }) },
    },
    {
      kind: 'huge selector',
      spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ event: `e${id}`, actor: 'a', mates: 0, selector: requirements(6000) }) },
    },
  ];
}

/** Fields netsync does not know, in every input format. */
function unknownFieldCases(id: number): BadCase[] {
  return [
    { kind: 'unknown field', spec: { path: `/event?event=e${id}&actor=a&mates=0&color=red` } },
    { kind: 'unknown field', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":"e${id}","actor":"a","mates":0,"Mates":1}` } },
    { kind: 'unknown field', spec: { path: '/event', headers: { 'content-type': 'application/yaml' }, body: `event: e${id}\nactor: a\nmates: 0\nmate: 2\n` } },
    { kind: 'unknown field', spec: { path: '/event', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `event=e${id}&actor=a&mates=0&payloads=p` } },
  ];
}

/** Prototype keys in the query, a form, JSON and YAML. */
function prototypeCases(id: number): BadCase[] {
  return [
    { kind: 'prototype keys', spec: { path: `/event?event=e${id}&actor=a&mates=0&__proto__=1` } },
    { kind: 'prototype keys', spec: { path: `/event?event=e${id}&actor=a&mates=0&constructor[prototype][x]=1` } },
    { kind: 'prototype keys', spec: { path: '/event', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `__proto__[event]=e${id}&actor=a&mates=0` } },
    { kind: 'prototype keys', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"__proto__":{"event":"e${id}"},"actor":"a","mates":0}` } },
    { kind: 'prototype keys', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":"e${id}","actor":"a","mates":0,"constructor":{"prototype":{"polluted":1}}}` } },
    { kind: 'prototype keys', spec: { path: '/event', headers: { 'content-type': 'application/yaml' }, body: `event: e${id}\nactor: a\nmates: 0\n__proto__: {polluted: 1}\n` } },
    { kind: 'prototype keys', spec: { path: '/event', headers: { 'content-type': 'application/json' }, body: `{"event":"e${id}","actor":"a","mates":0,"labels":{"constructor":"x","__proto__":"y"}}` } },
  ];
}

/** A random broken body under a content type taken in turn, sometimes with `?input=` overruling it. */
function randomBodyCase(random: Random, id: number): BadCase {
  const { body, type } = randomBody(random, id);
  const input = random() < 0.2 ? `?input=${pick(random, ['json', 'yaml'])}` : '';
  return { kind: `random body (${type ?? 'no content type'})`, spec: { path: `/event${input}`, headers: type === undefined ? {} : { 'content-type': type }, body } };
}

/** A broken body sent a few bytes at a time over about two seconds. */
function slowCase(id: number, random: Random): BadCase {
  const { body, type } = randomBody(random, id);
  return { kind: 'slow body (trickled)', spec: { path: '/event', headers: type === undefined ? {} : { 'content-type': type }, body, pieces: 8, trickleMs: 250 } };
}

/** The plan of a bad-input run. */
export interface BadInputPlan {
  readonly total: number;
  readonly aliasBombs: number;
  readonly slow: number;
  /** Pairs of lone-surrogate waiters (see `surrogateMeetings`). */
  readonly meetings: number;
  readonly seed: number;
}

/** At least `plan.total` malformed requests: the fixed kinds in rounds, the rest random query strings and bodies. */
export function badCases(plan: BadInputPlan): BadCase[] {
  const random = seeded(plan.seed);
  const out: BadCase[] = [];
  for (let i = 0; i < plan.aliasBombs; i++) {
    // Three levels of 8-way aliases over 50 KB: a 60 KB body that stands for 512 copies of the string.
    out.push({ kind: 'YAML alias bomb', spec: { path: '/event', headers: { 'content-type': 'application/yaml' }, body: aliasBomb(3, 50_000, `bomb${i}`) } });
  }
  // Small ones too: deeper nesting of a short string, under the default 64 KiB limit.
  for (let i = 0; i < plan.aliasBombs * 4; i++) {
    out.push({ kind: 'YAML alias bomb', spec: { path: '/event?input=yaml', body: aliasBomb(5 + (i % 2), 1000, `bombs${i}`) } });
  }
  for (let i = 0; i < plan.slow; i++) out.push(slowCase(i, random));
  let id = 0;
  while (out.length < plan.total) {
    id++;
    const r = random();
    // Each family is a list of variants; one variant per draw keeps the mix from leaning on the longest list.
    const family =
      r < 0.08 ? surrogateCases(id)
      : r < 0.14 ? deepCases(id, random)
      : r < 0.19 ? hugeSelectorCases(id, random)
      : r < 0.25 ? unknownFieldCases(id)
      : r < 0.31 ? prototypeCases(id)
      : r < 0.6 ? [{ kind: 'random query string', spec: { path: `/event?${randomQuery(random, pick(random, POISON))}` } }]
      : [randomBodyCase(random, id)];
    out.push(pick(random, family));
  }
  return out;
}
