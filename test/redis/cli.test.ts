// Two standalone servers (`netsync --redis`) on one Redis: a pair across them, and a killed server's waiter never matched after its lease.
import { randomBytes } from 'node:crypto';
import { eventBase, eventsKey, registryKey } from '../../lib/stores/redis/keys';
import { serveCli, type CliChild } from '../cli/child';
import { buildPackage, type BuiltPackage } from '../consumers/package';
import { describeRedis, leaseLapsed, recordOwners, RedisClients, REDIS_URL, type TestClient } from '../helpers/redis';
import { until } from '../helpers/until';

/** The CLI uses the default prefix; unique event names keep this suite apart from any other user of it. */
const PREFIX = 'netsync:';

describeRedis('netsync CLI processes sharing Redis', () => {
  const redis = new RedisClients();
  let pkg: BuiltPackage;
  let admin: TestClient;
  const running: CliChild[] = [];
  const tag = randomBytes(4).toString('hex');

  beforeAll(async () => {
    [pkg, admin] = await Promise.all([buildPackage(), redis.client()]);
  }, 120_000);

  afterAll(async () => {
    for (const child of running.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    await pkg?.remove();
    for (const event of ['pair', 'dead', 'probe'].map((e) => `${e}-${tag}`)) {
      const keys = await admin.keys(`${eventBase(PREFIX, event)}*`);
      if (keys.length > 0) await admin.unlink(keys);
      await admin.zRem(eventsKey(PREFIX), event);
    }
    await redis.cleanup();
  });

  async function serve(): Promise<{ child: CliChild; url: string }> {
    const served = await serveCli(pkg.cli, ['--log', 'off', '--redis', REDIS_URL]);
    running.push(served.child);
    return served;
  }

  /** The instance ids owning the pending requests of `event`. */
  async function owners(event: string): Promise<string[]> {
    return recordOwners(admin, PREFIX, event);
  }

  async function ownerOfOnly(event: string): Promise<string> {
    await until(async () => (await owners(event)).length === 1, `a waiter of ${event} in Redis`);
    return (await owners(event))[0] as string;
  }

  it('meets across two servers; after one is killed and its lease expires, its waiter is never matched', async () => {
    const one = await serve();
    const two = await serve();
    const pair = `pair-${tag}`;
    const [a, b] = await Promise.all([
      fetch(`${one.url}/event?event=${pair}&actor=a&payload=1`),
      fetch(`${two.url}/event?event=${pair}&actor=b&payload=2`),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const body = await a.json();
    expect(body).toEqual(await b.json());
    expect((body as { payloads: unknown }).payloads).toEqual({ a: '1', b: '2' });

    // A waiter on each server tells us their instance ids.
    const dead = `dead-${tag}`;
    const probe = `probe-${tag}`;
    const doomed = fetch(`${one.url}/event?event=${dead}&actor=d`).then((res) => res.status, () => 'connection lost');
    const deadId = await ownerOfOnly(dead);
    const probing = new AbortController();
    const probed = fetch(`${two.url}/event?event=${probe}&actor=p`, { signal: probing.signal }).catch((err: unknown) => err);
    const survivorId = await ownerOfOnly(probe);
    probing.abort();
    await probed;

    one.child.process.kill('SIGKILL');
    await one.child.exited;
    expect(await doomed).toBe('connection lost');
    expect(await owners(dead)).toEqual([deadId]);
    // The lease runs out (the CLI uses the default lease); then the survivor renews its own lease, which
    // also refreshes its view of who is alive.
    await until(() => leaseLapsed(admin, PREFIX, deadId), 'the killed server\'s lease to expire');
    const renewedBefore = Number(await admin.zScore(registryKey(PREFIX), survivorId));
    await until(async () => Number(await admin.zScore(registryKey(PREFIX), survivorId)) > renewedBefore, 'the survivor to renew');

    const newcomer = fetch(`${two.url}/event?event=${dead}&actor=n&timeout=3s`);
    await until(async () => (await owners(dead)).includes(survivorId), 'the newcomer in Redis');
    expect(await owners(dead)).toEqual([survivorId]);
    const stats = (await (await fetch(`${two.url}/stats`)).json()) as Record<string, Record<string, unknown>>;
    expect(Object.keys(stats[dead] ?? {})).toEqual(['n']);
    const answer = await newcomer;
    expect(answer.status).toBe(504);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('timeout');
  }, 90_000);
});
