// Profiles the standalone server under the private-pairs (or backlog) load and summarises the profile's self time by function.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ChildPrograms } from './build';
import { OUT_DIR } from './build';
import { portIn, start } from './processes';
import { park, runLoad, waitingIn, type Server } from './suite';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time per function of a `.cpuprofile`, largest first, as printable lines. */
export function summariseProfile(file: string, top = 30): string[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^file:\/\//, '').replace(`${process.cwd()}/`, '')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const sorted = [...self.entries()].sort((a, b) => b[1] - a[1]);
  const line = ([key, us]: [string, number]): string =>
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`;
  const byCategory = new Map<string, number>();
  for (const [key, us] of sorted) byCategory.set(categoryOf(key), (byCategory.get(categoryOf(key)) ?? 0) + us);
  return [
    `total ${(total / 1000).toFixed(0)} ms sampled; self time by origin:`,
    ...[...byCategory.entries()].sort((a, b) => b[1] - a[1]).map(line),
    `top ${top} functions:`,
    ...sorted.slice(0, top).map(line),
    'top netsync functions (dist/):',
    ...sorted.filter(([key]) => categoryOf(key) === 'netsync (dist/)').slice(0, 15).map(line),
  ];
}

/** Where a profiled function comes from: netsync's bundle, a dependency, Node itself, or the engine. */
function categoryOf(key: string): string {
  if (key.includes('dist/')) return 'netsync (dist/)';
  if (key.includes('node_modules/')) return 'dependencies (node_modules/)';
  if (key.includes('node:')) return 'Node.js library (node:)';
  if (key.startsWith('(garbage collector)')) return 'garbage collector';
  if (key.startsWith('(idle)')) return 'idle';
  return 'native and other (syscalls such as writev, regexps, program)';
}

/** Run the server with --cpu-prof under the private-pairs load; prints and returns the summary. */
export async function profileServer(
  programs: ChildPrograms,
  cli: string,
  durationMs: number,
  clients: number,
  log: (line: string) => void,
  /** Instead of private pairs: the shared event beside this many parked waiters, each wanting its own absent friend. */
  backlog = 0,
): Promise<string[]> {
  const dir = path.join(OUT_DIR, 'profile');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const child = start(process.execPath, [
    '--cpu-prof',
    '--cpu-prof-dir',
    dir,
    '--require',
    programs.exitOnSignal,
    cli,
    '127.0.0.1:0',
    '--log',
    'off',
  ]);
  const line = await child.nextLine((l) => portIn(l) !== undefined, 15000, 'profiled netsync server');
  const url = `http://127.0.0.1:${portIn(line) as number}`;
  const server: Server = { child, port: portIn(line) as number, url };
  const prefix = `prof${process.pid}-`;
  const event = `${prefix}shared`;
  const parked = backlog > 0
    ? await park(programs, server, { count: backlog, event, actors: 'distinct', selectors: 'distinct', eventPerWaiter: false, deadlineMs: 300000 }, () =>
      waitingIn(server, event, 'ghost'))
    : undefined;
  const kind = parked ? 'shared' : 'pairs';
  const { result } = await runLoad(
    programs,
    { kind, targets: [url], clients, eventPrefix: prefix, warmupMs: 500, durationMs, maxRequests: 1e9, graceMs: 300 },
    [server],
  );
  await parked?.parker.stop();
  log(`profiled ${parked ? `shared event beside ${backlog} waiters with distinct selectors` : 'private pairs'}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}`);
  await child.stop(10000);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the server wrote no .cpuprofile (did it exit normally?)');
  const summary = summariseProfile(path.join(dir, file));
  log(`self time by function (${path.relative(process.cwd(), path.join(dir, file))}):`);
  for (const l of summary) log(l);
  return summary;
}
