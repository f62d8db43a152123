// The CLI's argument parser: addresses, flags, REDIS_URL, and what counts as a usage error.
import { parseAddress, parseArgs, USAGE } from '../../lib/cli/args';

describe('parseAddress', () => {
  it.each([
    [':8000', { host: undefined, port: 8000 }],
    ['8000', { host: undefined, port: 8000 }],
    ['127.0.0.1:8000', { host: '127.0.0.1', port: 8000 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:8000', { host: '::1', port: 8000 }],
    [':65535', { host: undefined, port: 65535 }],
  ])('accepts %s', (text, expected) => {
    expect(parseAddress(text)).toEqual(expected);
  });

  it.each(['', ':', 'abc', '127.0.0.1', '127.0.0.1:', ':65536', '::1:8000', '[::1]', 'host:80:90', ':80a', '-1', 'http://x:80'])(
    'rejects %j',
    (text) => {
      expect(parseAddress(text)).toBeUndefined();
    },
  );
});

describe('parseArgs', () => {
  it('defaults to all interfaces on port 8000, graph log, memory store', () => {
    expect(parseArgs([])).toEqual({
      ok: true,
      command: {
        kind: 'serve', address: { host: undefined, port: 8000 }, log: 'graph', redisUrl: undefined, stats: 'full',
        maxWaitMs: undefined, maxPending: undefined, redis: { prefix: undefined, leaseMs: undefined }, metrics: false,
      },
    });
  });

  it('reads ADDR, --log and --redis', () => {
    expect(parseArgs(['127.0.0.1:9000', '--log', 'json', '--redis', 'redis://127.0.0.1:6379'])).toEqual({
      ok: true,
      command: {
        kind: 'serve', address: { host: '127.0.0.1', port: 9000 }, log: 'json', redisUrl: 'redis://127.0.0.1:6379', stats: 'full',
        maxWaitMs: undefined, maxPending: undefined, redis: { prefix: undefined, leaseMs: undefined }, metrics: false,
      },
    });
    expect(parseArgs(['--metrics'])).toMatchObject({ ok: true, command: { metrics: true } });
    expect(parseArgs(['--log=off', ':1234'])).toMatchObject({ ok: true, command: { log: 'off', address: { port: 1234 } } });
  });

  it('takes REDIS_URL from the environment unless --redis is given', () => {
    expect(parseArgs([], { REDIS_URL: 'redis://cache:6379' })).toMatchObject({ ok: true, command: { redisUrl: 'redis://cache:6379' } });
    expect(parseArgs(['--redis', 'redis://a:1'], { REDIS_URL: 'redis://b:2' })).toMatchObject({ ok: true, command: { redisUrl: 'redis://a:1' } });
    expect(parseArgs([], { REDIS_URL: '' })).toMatchObject({ ok: true, command: { redisUrl: undefined } });
  });

  it('reads --stats full|redacted|off, full by default', () => {
    for (const mode of ['full', 'redacted', 'off']) {
      expect(parseArgs(['--stats', mode])).toMatchObject({ ok: true, command: { stats: mode } });
    }
    expect(parseArgs(['--stats=redacted', ':1234'])).toMatchObject({ ok: true, command: { stats: 'redacted', address: { port: 1234 } } });
  });

  it('reads --max-wait as seconds or a duration, and --max-pending as a count', () => {
    expect(parseArgs(['--max-wait', '90', '--max-pending', '500'])).toMatchObject({ ok: true, command: { maxWaitMs: 90_000, maxPending: 500 } });
    for (const [text, ms] of [['500ms', 500], ['30s', 30_000], ['2m', 120_000], ['1.5', 1500]] as const) {
      expect(parseArgs([`--max-wait=${text}`])).toMatchObject({ ok: true, command: { maxWaitMs: ms } });
    }
  });

  it('reads --prefix and --lease for the Redis store', () => {
    expect(parseArgs(['--redis', 'redis://a:1', '--prefix', 'myapp:', '--lease', '10s'])).toMatchObject({
      ok: true,
      command: { redisUrl: 'redis://a:1', redis: { prefix: 'myapp:', leaseMs: 10_000 } },
    });
    expect(parseArgs(['--prefix', 'p:', '--lease', '2'], { REDIS_URL: 'redis://b:2' })).toMatchObject({
      ok: true,
      command: { redis: { prefix: 'p:', leaseMs: 2000 } },
    });
  });

  it('answers --help and -h with help, whatever else is there', () => {
    expect(parseArgs(['--help'])).toEqual({ ok: true, command: { kind: 'help' } });
    expect(parseArgs(['-h', ':80'])).toEqual({ ok: true, command: { kind: 'help' } });
  });

  it.each([
    [['--bogus'], /bogus/],
    [['--log', 'xml'], /--log "xml"/],
    [['--log'], /log/],
    [['abc'], /invalid ADDR "abc"/],
    [[':80', ':81'], /at most one ADDR/],
    [['--redis', 'http://x'], /Redis URL/],
    [['--redis', 'not a url'], /Redis URL/],
    [['--stats', 'none'], /--stats "none": use full, redacted or off/],
    [['--stats', 'true'], /--stats "true"/],
    [['--stats'], /stats/],
    [['--max-wait', 'soon'], /--max-wait "soon": use seconds \(90\) or a duration/],
    [['--max-wait', '0'], /--max-wait "0"/],
    [['--max-wait=-1s'], /--max-wait "-1s"/],
    [['--max-pending', '0'], /--max-pending "0": use a positive whole number/],
    [['--max-pending', '1.5'], /--max-pending "1.5"/],
    [['--max-pending', 'many'], /--max-pending "many"/],
    [['--redis', 'redis://a:1', '--lease', '3d'], /--lease "3d"/],
    [['--redis', 'redis://a:1', '--prefix', ''], /--prefix ""/],
    [['--prefix', 'p:'], /--prefix sets up the Redis store: add --redis URL/],
    [['--prefix', 'p:', '--lease', '5s'], /--prefix and --lease set up the Redis store/],
  ])('rejects %j', (argv, message) => {
    const result = parseArgs(argv);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('has a usage text naming every option', () => {
    for (const word of ['ADDR', '--log', '--redis', '--stats', '--max-wait', '--max-pending', '--prefix', '--lease', '--metrics', '--help']) {
      expect(USAGE).toContain(word);
    }
  });
});
