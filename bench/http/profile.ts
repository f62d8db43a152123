// Profiles the standalone server under the private-pairs load and summarises the profile's self time by function.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { ChildPrograms } from './build';
import { OUT_DIR } from './build';
import { portIn, start } from './processes';
import { runLoad } from './suite';

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
  const lines = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
  return [`total ${(total / 1000).toFixed(0)} ms sampled`, ...lines];
}

/** Run the server with --cpu-prof under the private-pairs load; prints and returns the summary. */
export async function profileServer(
  programs: ChildPrograms,
  cli: string,
  durationMs: number,
  clients: number,
  log: (line: string) => void,
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
  const server = { child, port: portIn(line) as number, url };
  const { result } = await runLoad(
    programs,
    { kind: 'pairs', targets: [url], clients, eventPrefix: `prof${process.pid}-`, warmupMs: 500, durationMs, maxRequests: 1e9, graceMs: 300 },
    [server],
  );
  log(`profiled private pairs: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}`);
  await child.stop(10000);
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('the server wrote no .cpuprofile (did it exit normally?)');
  const summary = summariseProfile(path.join(dir, file));
  log(`self time by function (${path.relative(process.cwd(), path.join(dir, file))}):`);
  for (const l of summary) log(l);
  return summary;
}
