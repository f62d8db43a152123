import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.join(__dirname, '..', '..');

/** Where V8 made the hub's objects for requests that pair at once, after a crowd of waiters (probes/pretenuring.ts). */
async function probe(mode: 'plain' | 'tuned'): Promise<{ young: number; old: number }> {
  const script = path.join(__dirname, 'probes', 'pretenuring.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script, mode], {
    cwd: root,
    timeout: 60_000,
  });
  return JSON.parse(stdout) as { young: number; old: number };
}

describe('the standalone server’s V8 settings', () => {
  // Each pairing request's PendingRequest, params and spec: 100 pairs (200 requests) a batch, 40 batches.
  const made = 2 * 100 * 40 * 3;

  test('after a crowd of waiters, V8 makes short-lived request objects old unless the server has tuned it', async () => {
    // Without the setting, the crowd teaches V8 to make these objects old: the cost the setting removes.
    const plain = await probe('plain');
    expect(plain.young + plain.old).toBe(made);
    expect(plain.old).toBeGreaterThan(0);
    const tuned = await probe('tuned');
    expect(tuned).toEqual({ young: made, old: 0 });
  });
});
