// Load-generator process: many keep-alive clients loop one request at a time and report throughput and latency.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { groupSize, MEASURE_MARK, percentile, requestPath, type LoadConfig, type LoadResult } from './common';

interface PhaseOutcome {
  completed: number;
  errors: number;
  abandoned: number;
  elapsedMs: number;
  latencies: number[];
  errorSamples: string[];
}

const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
const agents = config.targets.map(() => new http.Agent({ keepAlive: true, maxSockets: Infinity }));
const expectedBody = config.kind === 'baseline' ? '"ok":true' : '"payloads"';

/** One GET; resolves with the status and body, rejects on socket errors. */
function get(target: number, path: string, live: Set<http.ClientRequest>): Promise<{ status: number; body: string }> {
  const base = new URL(config.targets[target] as string);
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: base.hostname, port: base.port, path, agent: agents[target] },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          live.delete(req);
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    live.add(req);
    req.on('error', (err) => {
      live.delete(req);
      reject(err);
    });
  });
}

/**
 * Run every client until the phase stops (time or count), then give requests in flight `graceMs` to finish.
 * Members of one private event decide together whether to start another iteration, so none is left
 * waiting for a mate that stopped.
 */
async function phase(durationMs: number, maxRequests: number): Promise<PhaseOutcome> {
  const size = groupSize(config.kind);
  const groups = Math.ceil(config.clients / size);
  const groupIteration = new Int32Array(groups).fill(-1);
  const groupGoes = new Uint8Array(groups);
  const live = new Set<http.ClientRequest>();
  const out: PhaseOutcome = { completed: 0, errors: 0, abandoned: 0, elapsedMs: 0, latencies: [], errorSamples: [] };
  const start = performance.now();
  let lastDone = start;
  let issued = 0;
  let stopped = false;
  let aborting = false;

  const goes = (group: number, iteration: number): boolean => {
    if ((groupIteration[group] as number) < iteration) {
      groupIteration[group] = iteration;
      stopped ||= issued >= maxRequests || performance.now() - start >= durationMs;
      groupGoes[group] = stopped ? 0 : 1;
    }
    return groupGoes[group] === 1;
  };
  const fail = (why: string): void => {
    out.errors++;
    if (out.errorSamples.length < 3) out.errorSamples.push(why);
  };

  const client = async (i: number): Promise<void> => {
    const path = requestPath(config.kind, i, config.eventPrefix);
    const target = i % config.targets.length;
    const group = Math.floor(i / size);
    for (let iteration = 0; goes(group, iteration); iteration++) {
      issued++;
      const t0 = performance.now();
      try {
        const { status, body } = await get(target, path, live);
        const now = performance.now();
        if (status === 200 && body.includes(expectedBody)) {
          out.completed++;
          out.latencies.push(now - t0);
          lastDone = now;
        } else {
          fail(`${status} ${body.slice(0, 160)}`);
        }
      } catch (err) {
        if (aborting) out.abandoned++;
        else fail(err instanceof Error ? err.message : String(err));
      }
    }
  };

  const watcher = setInterval(() => {
    stopped ||= issued >= maxRequests || performance.now() - start >= durationMs;
    if (!stopped) return;
    clearInterval(watcher);
    setTimeout(() => {
      aborting = true;
      for (const req of live) req.destroy();
    }, config.graceMs).unref();
  }, 20);

  await Promise.all(Array.from({ length: config.clients }, (_, i) => client(i)));
  clearInterval(watcher);
  out.elapsedMs = lastDone - start;
  return out;
}

async function main(): Promise<void> {
  if (config.warmupMs > 0) await phase(config.warmupMs, Number.MAX_SAFE_INTEGER);
  process.stdout.write(`${MEASURE_MARK}\n`);
  const cpu0 = process.cpuUsage();
  const outcome = await phase(config.durationMs, config.maxRequests);
  const cpu = process.cpuUsage(cpu0);
  const sorted = Float64Array.from(outcome.latencies).sort();
  const result: LoadResult = {
    completed: outcome.completed,
    errors: outcome.errors,
    abandoned: outcome.abandoned,
    elapsedMs: outcome.elapsedMs,
    rps: outcome.elapsedMs > 0 ? (outcome.completed * 1000) / outcome.elapsedMs : 0,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    loadgenCpuMs: (cpu.user + cpu.system) / 1000,
    errorSamples: outcome.errorSamples,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const agent of agents) agent.destroy();
}

main().catch((err: unknown) => {
  process.stderr.write(`load generator failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
