// A store that cannot be reached, as a Redis that is down would be: for the answers and counts of that case.
import { errors } from '../../lib/errors';
import type { MatcherStore, MatchListener, PendingRequest, PendingSnapshot } from '../../lib/stores/types';

/** Every offer fails with `store_unavailable`; reading the pending requests fails with a detail no client may see. */
export class UnreachableStore implements MatcherStore {
  offer(_req: PendingRequest): Promise<void> {
    return Promise.reject(errors.storeUnavailable('connection refused'));
  }
  withdraw(_id: string): Promise<boolean> {
    return Promise.resolve(true);
  }
  onMatch(_listener: MatchListener): void {}
  pending(): Promise<PendingSnapshot[]> {
    return Promise.reject(new Error('an internal detail no client may see'));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
