// The standalone server's --metrics: GET /metrics after real traffic, and no such route without the flag.
import { builtCliSuite, serveCli } from './child';

const suite = builtCliSuite();
const running = suite.running;

async function serve(args: readonly string[]): Promise<string> {
  const { child, url } = await serveCli(suite.pkg().cli, ['--log', 'off', ...args]);
  running.push(child);
  return url;
}

describe('netsync --metrics', () => {
  it('serves the hub and process metrics in the Prometheus text format', async () => {
    const url = await serve(['--metrics']);
    const pair = await Promise.all(['a', 'b'].map((actor) => fetch(`${url}/event?event=e&actor=${actor}`)));
    expect(pair.map((r) => r.status)).toEqual([200, 200]);
    expect((await fetch(`${url}/event?event=e`)).status).toBe(400);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^netsync_requests_total\{outcome="matched"\} 2$/m);
    expect(text).toMatch(/^netsync_requests_total\{outcome="rejected"\} 1$/m);
    expect(text).toMatch(/^netsync_time_to_match_seconds_count{stage="0"} 2$/m);
    expect(text).toMatch(/^netsync_group_size_count 1$/m);
    expect(text).toMatch(/^netsync_waiting_requests 0$/m);
    expect(text).toMatch(/^netsync_oldest_wait_seconds 0$/m);
    expect(text).toMatch(/^process_cpu_seconds_total /m);
  });

  it('leaves /metrics to the 404 without the flag', async () => {
    const url = await serve([]);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });
});
