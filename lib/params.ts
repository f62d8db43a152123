// STUB — replaced by the parameter normaliser shared by the hub and the router.
import type { Selector } from './selector/types';
import type { RequestParams } from './types';

/** Validated parameters with the compiled selector and the class key stores group by. */
export interface NormalizedRequest {
  readonly params: RequestParams;
  readonly selector: Selector;
  readonly classKey: string;
}

/** Validate and default what a caller sent. Throws NetsyncError (`bad_request`, `invalid_selector`). */
export function normalizeParams(_input: unknown, _options: { maxMates: number }): NormalizedRequest {
  throw new Error('not implemented');
}
