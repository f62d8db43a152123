// Seeded randomness for storms and soaks, so a failing run can be replayed case for case.

/** A source of numbers in [0, 1). */
export type Random = () => number;

/** mulberry32: small, fast and good enough to spread test cases; the same seed gives the same sequence. */
export function seeded(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
