// `npm run soak`: a bounded reliability run against the standalone CLI; writes RELIABILITY.md, exits 1 on a missed target.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleForNode } from '../bench/http/build';
import { killAll, killChildrenOnExit } from '../bench/http/processes';
import { ConnectGate } from './client';
import type { SoakContext } from './context';
import type { ScenarioResult } from './outcomes';
import { checkTargets, renderMarkdown } from './report';
import { matchingName, runMatching, type MatchingPlan } from './scenarios/matching';
import { runMalformed } from './scenarios/malformed';
import { runRedis } from './scenarios/redis';
import { runShutdown } from './scenarios/shutdown';
import { runStorm } from './scenarios/storm';
import { Fleet, openFileLimit, PrivateRedis, type Instance } from './servers';

const PARTS = ['matching', 'storm', 'malformed', 'sigterm', 'redis'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: npm run soak -- [--quick] [--cli PATH] [--only PART[,PART…]]
  --quick   small sizes, under a minute
  --cli     the server to drive (default dist/cli.js)
  --only    run some parts (${PARTS.join(', ')}); RELIABILITY.md is then left alone`;

/** Files the soak may keep open besides its requests (its own modules, pipes to children, /stats polls). */
const RESERVED_FILES = 256;
/** The most requests the soak ever needs open at once: the storm's survivors, their mates and its probes. */
const MOST_OPEN = 11_000;

interface Args {
  readonly quick: boolean;
  readonly cli: string;
  readonly only: ReadonlySet<Part> | undefined;
}

function parseArgs(argv: readonly string[], root: string): Args {
  let quick = false;
  let cli = path.join(root, 'dist', 'cli.js');
  let only: Set<Part> | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--quick') quick = true;
    else if (arg === '--cli' && argv[i + 1] !== undefined) cli = path.resolve(argv[++i] as string);
    else if (arg === '--only' && argv[i + 1] !== undefined) {
      only = new Set();
      for (const part of (argv[++i] as string).split(',')) {
        if (!(PARTS as readonly string[]).includes(part)) throw new Error(`unknown part ${part}\n${USAGE}`);
        only.add(part as Part);
      }
    } else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg}\n${USAGE}`);
  }
  return { quick, cli, only };
}

/** Sizes of a full and of a quick run. */
function sizes(quick: boolean): {
  matching: MatchingPlan[];
  storm: { rounds: number; waiters: number; probes: number };
  malformed: { total: number; aliasBombs: number; slow: number; meetings: number; seed: number };
  sigterm: number;
  redis: { pairs: number; shared: number; seconds: number; outages: Array<{ at: number; downFor: number }> };
} {
  const pairs = quick ? 500 : 5000;
  const triples = quick ? 200 : 2000;
  return {
    matching: (['one-event', 'by-selector', 'by-event'] as const).flatMap((layout) => [
      { size: 2 as const, groups: pairs, layout },
      { size: 3 as const, groups: triples, layout },
    ]),
    storm: { rounds: 5, waiters: quick ? 600 : 10000, probes: quick ? 60 : 1000 },
    malformed: { total: quick ? 400 : 2400, aliasBombs: quick ? 1 : 3, slow: quick ? 4 : 24, meetings: quick ? 3 : 10, seed: 20261130 },
    sigterm: quick ? 200 : 1000,
    redis: quick
      ? { pairs: 20, shared: 10, seconds: 8, outages: [{ at: 2, downFor: 2 }] }
      : { pairs: 100, shared: 40, seconds: 45, outages: [{ at: 10, downFor: 3 }, { at: 28, downFor: 5 }] },
  };
}

/** A private Redis and two CLI instances on it. */
async function openRedisPair(fleet: Fleet): Promise<{ redis: PrivateRedis; a: Instance; b: Instance }> {
  const redis = await PrivateRedis.open();
  try {
    return { redis, a: await fleet.start('redis A', ['--redis', redis.url]), b: await fleet.start('redis B', ['--redis', redis.url]) };
  } catch (error) {
    await redis.close();
    throw error;
  }
}

async function main(): Promise<number> {
  killChildrenOnExit();
  const root = path.resolve(__dirname, '..');
  const args = parseArgs(process.argv.slice(2), root);
  const wants = (part: Part): boolean => args.only === undefined || args.only.has(part);
  const started = new Date();
  const t0 = Date.now();
  const log = (line: string): void => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const openFiles = openFileLimit();
  const maxOpen = Math.max(100, Math.min(MOST_OPEN, openFiles - RESERVED_FILES));
  if (maxOpen < MOST_OPEN) log(`open-file limit ${openFiles}: at most ${maxOpen} requests open at once (raise ulimit -n for the full sizes)`);
  const outDir = path.join(__dirname, '.out');
  await bundleForNode([path.join(__dirname, 'gc-on-signal.ts')], outDir);
  const fleet = new Fleet(args.cli, t0, path.join(outDir, 'gc-on-signal.cjs'));
  const ctx: SoakContext = {
    gate: new ConnectGate(128),
    maxOpen,
    fleet,
    log,
    tag: `soak${process.pid}t${Date.now().toString(36)}`,
    deadlineMs: args.quick ? 30000 : 90000,
  };
  const plan = sizes(args.quick);
  const results: ScenarioResult[] = [];
  const failures: string[] = [];
  const attempt = async (name: string, run: () => Promise<ScenarioResult>): Promise<void> => {
    log(`── ${name}`);
    try {
      const r = await run();
      results.push(r);
      const v = Object.entries(r.violations).filter(([, n]) => n > 0);
      log(`${r.name}: ${r.tally.requests} requests, ${r.groups} groups, violations ${v.length === 0 ? 0 : v.map(([k, n]) => `${n} ${k}`).join(' ')}, 5xx ${r.tally.fiveXx}, ${r.seconds.toFixed(1)} s`);
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
      log(`${name} failed: ${failures[failures.length - 1]}`);
    }
  };

  let redis: PrivateRedis | undefined;
  let crashes: ReturnType<Fleet['crashes']> = [];
  try {
    log(`netsync soak${args.quick ? ' (quick)' : ''}: ${path.relative(process.cwd(), args.cli)}`);
    if (wants('matching') || wants('storm') || wants('malformed')) {
      // The storm compares RSS between rounds, read after a full collection the preload runs on request.
      const memory = await fleet.start('memory', [], { gc: true }).catch((error: unknown) => {
        failures.push(`memory instance did not start: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (memory !== undefined) {
        if (wants('matching')) for (const m of plan.matching) await attempt(matchingName(m), () => runMatching(ctx, memory, m));
        if (wants('storm')) await attempt('disconnect storm', () => runStorm(ctx, memory, plan.storm));
        if (wants('malformed')) await attempt('malformed requests', () => runMalformed(ctx, memory, plan.malformed));
      }
    }
    if (wants('sigterm')) await attempt('SIGTERM', async () => runShutdown(ctx, await fleet.start('sigterm'), plan.sigterm));
    if (wants('redis')) {
      const pair = await openRedisPair(fleet).catch((error: unknown) => {
        failures.push(`Redis scenarios: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      });
      if (pair !== undefined) {
        redis = pair.redis;
        // Bad input first, on a healthy Redis: the store must refuse what the memory store refuses.
        const few = { ...plan.malformed, total: Math.ceil(plan.malformed.total / 4), slow: 2 };
        await attempt('malformed requests, Redis store', () => runMalformed(ctx, pair.a, few, 'Redis'));
        await attempt('Redis kill and restart', () => runRedis(ctx, pair.redis, pair.a, pair.b, plan.redis));
      }
    }
    fleet.sample();
  } finally {
    // Crashes are read before the soak stops the instances itself.
    crashes = fleet.crashes();
    await fleet.close();
    await redis?.close().catch(() => undefined);
  }

  const command = `npm run soak${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const run = { command, started, partial: args.only !== undefined, seconds: (Date.now() - t0) / 1000, quick: args.quick, openFiles, maxOpen, results, crashes, rss: fleet.samples, failures };
  const targets = checkTargets(run);
  for (const t of targets) log(`target ${t.met ? 'met' : 'NOT met'}: ${t.target} — ${t.measured}`);
  // A partial run (--only) never stands for the whole: its report goes to the scratch folder.
  const report = args.only === undefined ? path.join(root, 'RELIABILITY.md') : path.join(root, '.tmp', 'RELIABILITY.partial.md');
  mkdirSync(path.dirname(report), { recursive: true });
  writeFileSync(report, renderMarkdown(run));
  log(`results written to ${path.relative(root, report)}`);
  return targets.every((t) => t.met) ? 0 : 1;
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  })
  .finally(killAll);
