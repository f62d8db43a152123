// Polling with a bound, for state outside the process (Redis, a cluster, a child server) that signals nothing a test can await.

/** Resolves once `test` holds; rejects naming `what` after `limitMs`. The bound only matters when a test fails. */
export async function until(test: () => Promise<boolean> | boolean, what: string, limitMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await test())) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
