// `netsync --redis-cluster`: its parsing, and two standalone servers on a three-master cluster (a pair, /stats, kill -9 and lease lapse).
import { parseArgs } from '../../lib/cli/args';
import { recordsKey, registryKey } from '../../lib/stores/redis/keys';
import { serveCli, startCli, STARTUP_LINE, type CliChild } from '../cli/child';
import { buildPackage, type BuiltPackage } from '../consumers/package';
import { describeCluster, PrivateCluster, type TestCluster } from '../helpers/redis-cluster';
import { until } from '../helpers/until';

const PREFIX = 'netsync:';

describe('parseArgs --redis-cluster', () => {
  it('reads the seed nodes, with --prefix and --lease, and ignores REDIS_URL', () => {
    expect(parseArgs(['--redis-cluster', 'redis://a:7000, redis://b:7001', '--prefix', 'p:', '--lease', '2s'], { REDIS_URL: 'redis://c:1' })).toMatchObject({
      ok: true,
      command: { redisUrl: undefined, redisCluster: ['redis://a:7000', 'redis://b:7001'], redis: { prefix: 'p:', leaseMs: 2000 } },
    });
  });

  it.each([
    [['--redis-cluster', ''], /--redis-cluster "": give the URL of at least one node/],
    [['--redis-cluster', 'redis://a:1,http://b:2'], /invalid --redis-cluster URL "http:\/\/b:2"/],
    [['--redis-cluster', 'redis://a:1', '--redis', 'redis://b:2'], /--redis and --redis-cluster exclude each other/],
  ])('refuses %j', (argv, message) => {
    const result = parseArgs(argv);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toMatch(message);
  });
});

describeCluster('netsync CLI processes on a Redis Cluster', () => {
  let cluster: PrivateCluster | undefined;
  let pkg: BuiltPackage | undefined;
  let admin: TestCluster;
  const running: CliChild[] = [];

  beforeAll(async () => {
    [pkg, cluster] = await Promise.all([buildPackage(), PrivateCluster.start()]);
    admin = await cluster.client();
  }, 120_000);

  afterAll(async () => {
    for (const child of running.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    await pkg?.remove();
    await cluster?.stop();
  });

  async function serve(seeds: readonly string[]): Promise<{ child: CliChild; url: string }> {
    const served = await serveCli((pkg as BuiltPackage).cli, ['--log', 'off', '--redis-cluster', seeds.join(','), '--lease', '1s']);
    running.push(served.child);
    return served;
  }

  async function owners(event: string): Promise<string[]> {
    const records = await admin.hVals(recordsKey(PREFIX, event));
    return records.map((raw) => raw.slice(0, raw.indexOf('\n')));
  }

  async function ownerOfOnly(event: string): Promise<string> {
    await until(async () => (await owners(event)).length === 1, `a waiter of ${event} in Redis`);
    return (await owners(event))[0] as string;
  }

  /** Whether `id`'s lease ran out by the clock of the master holding the registry. */
  async function leaseLapsed(id: string): Promise<boolean> {
    const key = registryKey(PREFIX);
    const [expiry, [seconds, micros]] = await Promise.all([
      admin.zScore(key, id),
      admin.sendCommand(key, true, ['TIME']) as Promise<[string, string]>,
    ]);
    return expiry === null || expiry < Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  it('exits 1 and says so when no seed node answers at start', async () => {
    const child = startCli((pkg as BuiltPackage).cli, ['127.0.0.1:0', '--redis-cluster', 'redis://127.0.0.1:1,redis://127.0.0.1:2']);
    running.push(child);
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toContain('cannot connect to Redis Cluster at cluster:redis://127.0.0.1:1,redis://127.0.0.1:2');
    expect(child.lines).toEqual([]);
  });

  it('meets across two servers; after one is killed and its lease expires, its waiter is never matched', async () => {
    const c = cluster as PrivateCluster;
    // Each server knows a different seed; both find the whole cluster.
    const one = await serve([c.urls[0] as string]);
    const two = await serve([c.urls[1] as string, c.urls[2] as string]);
    const startup = one.child.lines.find((l) => STARTUP_LINE.test(l)) as string;
    expect(STARTUP_LINE.exec(startup)?.[3]).toBe(`cluster:${c.urls[0] as string}`);

    const [a, b] = await Promise.all([
      fetch(`${one.url}/event?event=pair&actor=a&payload=1`),
      fetch(`${two.url}/event?event=pair&actor=b&payload=2`),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const body = await a.json();
    expect(body).toEqual(await b.json());
    expect((body as { payloads: unknown }).payloads).toEqual({ a: '1', b: '2' });

    // Groups of three across both servers, on events spread over the masters.
    const events = Array.from({ length: 6 }, (_, i) => `trio-${i}`);
    const trios = await Promise.all(events.flatMap((event) => [one.url, two.url, one.url].map((url, i) => fetch(`${url}/event?event=${event}&actor=m${i}&mates=2`))));
    expect(trios.map((res) => res.status)).toEqual(trios.map(() => 200));

    // /stats on either server lists the waiters of both, whichever master holds them.
    const waits = events.map((event, i) => fetch(`${i % 2 === 0 ? one.url : two.url}/event?event=${event}&actor=w&timeout=3s`).then((res) => res.status));
    await until(async () => {
      const stats = (await (await fetch(`${one.url}/stats`)).json()) as Record<string, unknown>;
      return events.every((event) => stats[event] !== undefined);
    }, 'every waiter in /stats');
    expect(Object.keys((await (await fetch(`${two.url}/stats`)).json()) as object).sort()).toEqual([...events].sort());
    expect(await Promise.all(waits)).toEqual(events.map(() => 504));

    const doomed = fetch(`${one.url}/event?event=dead&actor=d`).then((res) => res.status, () => 'connection lost');
    const deadId = await ownerOfOnly('dead');
    const probing = new AbortController();
    const probed = fetch(`${two.url}/event?event=probe&actor=p`, { signal: probing.signal }).catch((err: unknown) => err);
    const survivorId = await ownerOfOnly('probe');
    probing.abort();
    await probed;
    one.child.process.kill('SIGKILL');
    await one.child.exited;
    expect(await doomed).toBe('connection lost');
    expect(await owners('dead')).toEqual([deadId]);
    await until(() => leaseLapsed(deadId), 'the killed server\'s lease to expire');
    // The survivor renews (every lease/3), which also refreshes its view of who is alive.
    const renewedBefore = Number(await admin.zScore(registryKey(PREFIX), survivorId));
    await until(async () => Number(await admin.zScore(registryKey(PREFIX), survivorId)) > renewedBefore, 'the survivor to renew');
    const newcomer = await fetch(`${two.url}/event?event=dead&actor=n&timeout=2s`);
    expect(newcomer.status).toBe(504);
    const stats = (await (await fetch(`${two.url}/stats`)).json()) as Record<string, unknown>;
    expect(stats.dead).toBeUndefined();
  }, 120_000);
});
