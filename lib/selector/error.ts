// The error thrown for selector or label text that does not follow Kubernetes syntax.

/** A selector or label text that does not follow Kubernetes syntax. */
export class SelectorError extends Error {
  override readonly name = 'SelectorError';
  /** Zero-based offset in the input where the problem was found. */
  readonly position: number;
  /** What the parser expected there, e.g. `identifier`. */
  readonly expected: string | undefined;
  constructor(message: string, position: number, expected?: string) {
    super(message);
    this.position = position;
    this.expected = expected;
  }
}
