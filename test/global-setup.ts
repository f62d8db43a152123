// Runs once before all suites: finds out whether Redis answers, so Redis suites can run, skip with a notice, or fail in CI.
import { createConnection } from 'node:net';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function ping(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export default async function globalSetup(): Promise<void> {
  const up = await ping(REDIS_URL);
  // Workers start after this and inherit the environment.
  process.env.NETSYNC_REDIS_AVAILABLE = up ? '1' : '0';
  if (!up && process.env.NETSYNC_REQUIRE_REDIS !== '1') {
    process.stderr.write(`\nnotice: Redis does not answer at ${REDIS_URL}; the Redis suites are skipped (set NETSYNC_REQUIRE_REDIS=1 to make that a failure)\n`);
  }
}
