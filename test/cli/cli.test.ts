// The standalone server as users run it: the built dist/cli.js in a child process, over real HTTP.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describeRedis, newClient, REDIS_URL } from '../helpers/redis';
import { builtCliSuite, serveCli, startCli, STARTUP_LINE, type CliChild } from './child';

const suite = builtCliSuite();
const running = suite.running;

async function serve(args: readonly string[] = []): Promise<{ child: CliChild; url: string }> {
  const served = await serveCli(suite.pkg().cli, args);
  running.push(served.child);
  return served;
}

function send(url: string, actor: string, payload: string): Promise<Response> {
  return fetch(`${url}/event?event=e&payload=${payload}&actor=${actor}`);
}

describe('netsync CLI', () => {
  it('prints the address it listens on, with the real port', async () => {
    const { url } = await serve(['--log', 'off']);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    const res = await fetch(`${url}/stats`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(await res.json()).toEqual({});
  });

  it('names the store on its startup line', async () => {
    const { child, url } = await serve(['--log', 'off']);
    expect(child.lines[0]).toBe(`netsync listening on ${url}, store: memory`);
  });

  it('on every interface, prints the bound address with one a user can curl', async () => {
    const child = startCli(suite.pkg().cli, [':0', '--log', 'off']);
    running.push(child);
    const line = await child.line((l) => l.startsWith('netsync listening on '));
    const [, bound, hint, store] = STARTUP_LINE.exec(line) ?? [];
    expect(bound).toMatch(/^http:\/\/(\[::\]|0\.0\.0\.0):\d+$/);
    expect(hint).toBe(`http://127.0.0.1:${new URL(bound as string).port}`);
    expect(store).toBe('memory');
    expect((await fetch(`${hint as string}/stats`)).status).toBe(200);
  });

  it('caps every wait with --max-wait', async () => {
    const { url } = await serve(['--log', 'off', '--max-wait', '100ms']);
    const res = await fetch(`${url}/event?event=e&actor=lonely&timeout=1h`);
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: { code: 'timeout', message: 'no match within 100ms; send again or raise timeout' } });
  });

  it('answers 503 overloaded past --max-pending', async () => {
    const { child, url } = await serve(['--log', 'json', '--max-pending', '1']);
    const controller = new AbortController();
    const waiting = fetch(`${url}/event?event=e&actor=first`, { signal: controller.signal }).catch(() => undefined);
    await child.line((l) => l.includes('"pending"'));
    const res = await fetch(`${url}/event?event=other&actor=second`);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    controller.abort();
    await waiting;
  });

  it('loads the package\'s own build instead of carrying a copy of the library', async () => {
    const source = await readFile(suite.pkg().cli, 'utf8');
    expect(source).toContain('require("./index.js")');
    for (const definition of ['class NetsyncError', 'class Netsync ', 'class MemoryStore', 'class RedisStore', 'function parseSelector', 'function normalizeParams']) {
      expect({ definition, found: source.includes(definition) }).toEqual({ definition, found: false });
    }
    // At run time the CLI's library is the module a host gets from require('netsync'), so instanceof holds.
    const probe = [
      `const index = require.resolve(${JSON.stringify(join(suite.pkg().dir, 'dist', 'index.js'))});`,
      "process.on('exit', () => process.stderr.write(String(index in require.cache)));",
      `process.argv = [process.argv[0], ${JSON.stringify(suite.pkg().cli)}, '--help'];`,
      `require(${JSON.stringify(suite.pkg().cli)});`,
    ].join('\n');
    const { stderr } = await promisify(execFile)(process.execPath, ['-e', probe]);
    expect(stderr).toBe('true');
  });

  it('serves /stats without payloads with --stats redacted, and no /stats with --stats off', async () => {
    const { child, url } = await serve(['--stats', 'redacted']);
    const controller = new AbortController();
    const waiting = fetch(`${url}/event?event=e&actor=actor1&payload=secret`, { signal: controller.signal }).catch(() => undefined);
    await child.line((l) => l.includes('actor=actor1'));
    const stats = (await (await fetch(`${url}/stats`)).json()) as Record<string, Record<string, Record<string, { params: object }>>>;
    expect(Object.values(stats.e?.actor1 ?? {}).map((entry) => entry.params)).toEqual([
      { event: 'e', actor: 'actor1', labels: { actor: 'actor1' }, selector: 'actor != actor1', mates: 1 },
    ]);
    controller.abort();
    await waiting;

    const off = await serve(['--log', 'off', '--stats', 'off']);
    expect((await fetch(`${off.url}/stats`)).status).toBe(404);
  });

  it('lets a pair meet', async () => {
    const { url } = await serve(['--log', 'off']);
    const [a, b] = await Promise.all([send(url, 'actor1', 'p1'), send(url, 'actor2', 'p2')]);
    const expected = { actor1: 'p1', actor2: 'p2' };
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(((await a.json()) as { payloads: unknown }).payloads).toEqual(expected);
    expect(((await b.json()) as { payloads: unknown }).payloads).toEqual(expected);
  });

  it('draws the lane graph for a pair with --log graph (the default)', async () => {
    const { child, url } = await serve();
    const first = send(url, 'actor1', 'p1');
    await child.line((l) => l.includes('actor=actor1'));
    const second = send(url, 'actor2', 'p2');
    await Promise.all([first, second]);
    await child.line((l) => l.includes(' match '));
    expect(child.lines.slice(1)).toEqual([
      '┌ [event=e actor=actor1]',
      '│┌ [event=e actor=actor2]',
      '└└ match [event=e actor=actor1] [event=e actor=actor2]',
    ]);
  });

  it('prints JSON lines with --log json', async () => {
    const { child, url } = await serve(['--log', 'json']);
    const first = send(url, 'actor1', 'p1');
    await child.line((l) => l.includes('"actor1"'));
    await Promise.all([first, send(url, 'actor2', 'p2')]);
    await child.line((l) => l.includes('"match"'));
    const records = child.lines.slice(1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([
      expect.objectContaining({ type: 'pending', event: 'e', actor: 'actor1', mates: 1 }),
      expect.objectContaining({ type: 'pending', event: 'e', actor: 'actor2', mates: 1 }),
      expect.objectContaining({
        type: 'match',
        event: 'e',
        members: [expect.objectContaining({ actor: 'actor1' }), expect.objectContaining({ actor: 'actor2' })],
      }),
    ]);
    for (const record of records) expect(new Date(String(record.time)).toISOString()).toBe(record.time);
  });

  it('answers a waiter 503 shutting_down on SIGTERM and exits 0', async () => {
    const { child, url } = await serve(['--log', 'json']);
    const waiter = send(url, 'lonely', 'p');
    await child.line((l) => l.includes('"pending"'));
    child.process.kill('SIGTERM');
    const res = await waiter;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: 'shutting_down', message: expect.any(String) } });
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.lines).toContainEqual(expect.stringContaining('"withdrawn"'));
  });

  it('keeps serving when the reader of its log goes away', async () => {
    const { child, url } = await serve(['--log', 'json']);
    child.process.stdout?.destroy();
    for (const actor of ['a1', 'a2', 'a3']) {
      const res = await fetch(`${url}/event?event=e&actor=${actor}&mates=0`);
      expect(res.status).toBe(200);
    }
    expect((await fetch(`${url}/stats`)).status).toBe(200);
    child.process.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 0 on SIGINT when idle', async () => {
    const { child } = await serve(['--log', 'off']);
    child.process.kill('SIGINT');
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });

  it.each([[['--bogus']], [['--log', 'xml']], [['not-an-address']], [[':1', ':2']]])('exits 2 with usage on bad arguments %j', async (args) => {
    const child = startCli(suite.pkg().cli, args);
    running.push(child);
    expect(await child.exited).toEqual({ code: 2, signal: null });
    expect(child.stderr()).toContain('Usage: netsync [ADDR]');
    expect(child.lines).toEqual([]);
  });

  it('prints usage and exits 0 with --help', async () => {
    const child = startCli(suite.pkg().cli, ['--help']);
    running.push(child);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.lines[0]).toBe('Usage: netsync [ADDR] [--log graph|json|off] [--redis URL] [--stats full|redacted|off] [--metrics] [--help]');
    expect(child.stderr()).toBe('');
  });

  it('exits 1 and says so when Redis does not answer at start', async () => {
    const child = startCli(suite.pkg().cli, ['127.0.0.1:0', '--redis', 'redis://127.0.0.1:1']);
    running.push(child);
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toContain('cannot connect to Redis at redis://127.0.0.1:1');
    expect(child.lines).toEqual([]);
  });

  it('exits 1 and says so when the port is taken', async () => {
    const { url } = await serve(['--log', 'off']);
    const child = startCli(suite.pkg().cli, [new URL(url).host]);
    running.push(child);
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.stderr()).toMatch(/cannot listen on 127\.0\.0\.1:\d+/);
  });
});

describeRedis('netsync CLI with --redis --prefix', () => {
  it('meets only servers with the same prefix, and names the store on its startup line', async () => {
    const tag = randomBytes(4).toString('hex');
    const event = `cli-prefix-${tag}`;
    const one = await serve(['--log', 'json', '--redis', REDIS_URL, '--prefix', `test-${tag}-a:`, '--lease', '2s']);
    const same = await serve(['--log', 'off', '--redis', REDIS_URL, '--prefix', `test-${tag}-a:`]);
    const other = await serve(['--log', 'off', '--redis', REDIS_URL, '--prefix', `test-${tag}-b:`]);
    expect(one.child.lines[0]).toBe(`netsync listening on ${one.url}, store: ${new URL(REDIS_URL).toString()}`);
    const controller = new AbortController();
    const waiting = fetch(`${one.url}/event?event=${event}&actor=actor1`, { signal: controller.signal }).catch(() => undefined);
    await one.child.line((l) => l.includes('"pending"'));
    const actorsIn = async (url: string): Promise<string[]> => {
      const stats = (await (await fetch(`${url}/stats`)).json()) as Record<string, Record<string, unknown>>;
      return Object.keys(stats[event] ?? {});
    };
    expect(await actorsIn(one.url)).toEqual(['actor1']);
    expect(await actorsIn(same.url)).toEqual(['actor1']);
    expect(await actorsIn(other.url)).toEqual([]);
    controller.abort();
    await waiting;
    for (const served of [one, same, other]) served.child.process.kill('SIGTERM');
    for (const served of [one, same, other]) expect(await served.child.exited).toEqual({ code: 0, signal: null });
    const admin = newClient();
    await admin.connect();
    const keys = await admin.keys(`test-${tag}-*`);
    if (keys.length > 0) await admin.unlink(keys);
    await admin.close();
  });
});

describeRedis('netsync CLI with --redis', () => {
  it('lets a pair meet across two servers sharing Redis, shows waiters of both in /stats, and exits 0', async () => {
    const event = `cli-${randomBytes(4).toString('hex')}`;
    const one = await serve(['--log', 'json', '--redis', REDIS_URL]);
    const two = await serve(['--log', 'json', '--redis', REDIS_URL]);
    const first = fetch(`${one.url}/event?event=${event}&actor=actor1&payload=p1`);
    await one.child.line((l) => l.includes('"pending"'));
    const actorsIn = async (url: string): Promise<string[]> => {
      const stats = (await (await fetch(`${url}/stats`)).json()) as Record<string, Record<string, unknown>>;
      return Object.keys(stats[event] ?? {});
    };
    // The owner's /stats waits for its offers to reach Redis; from then on every instance lists the waiter.
    expect(await actorsIn(one.url)).toEqual(['actor1']);
    expect(await actorsIn(two.url)).toEqual(['actor1']);
    const [a, b] = await Promise.all([first, fetch(`${two.url}/event?event=${event}&actor=actor2&payload=p2`)]);
    const expected = { actor1: 'p1', actor2: 'p2' };
    expect(((await a.json()) as { payloads: unknown }).payloads).toEqual(expected);
    expect(((await b.json()) as { payloads: unknown }).payloads).toEqual(expected);
    one.child.process.kill('SIGTERM');
    two.child.process.kill('SIGTERM');
    expect(await one.child.exited).toEqual({ code: 0, signal: null });
    expect(await two.child.exited).toEqual({ code: 0, signal: null });
  });
});
