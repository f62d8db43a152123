// The benchmark's reading of `--trace-gc-nvp` output (bench/http/gc-trace.ts): only scavenge lines count as
// scavenges, fields are read by exact name, and per-request figures use the loop's request count.
import { summariseGc } from '../../bench/http/gc-trace';

// Shortened lines in the shape node --trace-gc-nvp prints (one per collection).
const scavenge = (pause: number, background: number, survived: number, promoted: number): string =>
  `[123:0x5a]    1003 ms: pause=${pause} mutator=20.1 gc=s reduce_memory=0 scavenge=1.2 scavenge.parallel=0.9 ` +
  `background.scavenge.parallel=${background} new_space_survived=${survived} promoted=${promoted} allocated=14000000`;
const markCompact =
  '[123:0x5a]    2003 ms: pause=9.4 mutator=50.0 gc=mc reduce_memory=0 mark=0.2 background.mark=18.4 promoted=0';

describe('summariseGc', () => {
  it('averages the scavenges and leaves mark-compacts out of them', () => {
    const gc = summariseGc(
      [scavenge(2, 1, 300_000, 200_000), markCompact, 'listening on http://127.0.0.1:1234', scavenge(4, 3, 100_000, 0)],
      { iterations: 10, requests: 40, squares: 400 },
    );
    expect(gc.scavenges).toBe(2);
    expect(gc.markCompacts).toBe(1);
    expect(gc.pauseMs).toBe(3);
    expect(gc.survivedBytes).toBe(200_000);
    expect(gc.promotedBytes).toBe(100_000);
    // (2 + 1 + 4 + 3) ms over 40 requests.
    expect(gc.scavengeUsPerRequest).toBe(250);
    expect(gc.batch).toBe(4);
    expect(gc.batchOfRequest).toBe(10);
  });

  it('reads background.scavenge.parallel, not scavenge.parallel, as the helpers\' time', () => {
    const gc = summariseGc([scavenge(1, 0, 0, 0)], { iterations: 1, requests: 1, squares: 1 });
    expect(gc.scavengeUsPerRequest).toBe(1000);
  });

  it('reports zeros for a phase without scavenges or requests', () => {
    expect(summariseGc([markCompact], { iterations: 0, requests: 0, squares: 0 })).toEqual({
      requests: 0, scavenges: 0, pauseMs: 0, survivedBytes: 0, promotedBytes: 0, scavengeUsPerRequest: 0, markCompacts: 1, batch: 0, batchOfRequest: 0,
    });
  });
});
