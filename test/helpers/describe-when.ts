// `describe` for suites that need something of the machine (Redis, a cluster's tools, a browser).

/** What a suite needs, and what to say when the machine lacks it. */
export interface Need {
  readonly available: boolean;
  /** Set (as in CI) when a missing need must fail the suite instead of skipping it. */
  readonly required: boolean;
  /** The failing test's name when required and missing (`needs Redis`). */
  readonly test: string;
  /** That test's error message. */
  readonly message: string;
  /** Appended to the name of a skipped suite (`Redis not available`). */
  readonly skippedAs: string;
  /** Called when a suite is skipped (a notice on stderr, say). */
  readonly onSkip?: (name: string) => void;
}

/** Runs the suite when `need` is available; otherwise fails it if the need is required, else skips it. */
export function describeWhen(need: Need, name: string, fn: () => void): void {
  if (need.available) {
    describe(name, fn);
  } else if (need.required) {
    describe(name, () => {
      it(need.test, () => {
        throw new Error(need.message);
      });
    });
  } else {
    need.onSkip?.(name);
    const skipped = describe.skip;
    skipped(`${name} (${need.skippedAs})`, fn);
  }
}
