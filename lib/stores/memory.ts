// STUB — replaced by the in-process store.
import type { MatcherStore, MatchListener, PendingRequest, PendingSnapshot } from './types';

export class MemoryStore implements MatcherStore {
  offer(_req: PendingRequest): Promise<void> {
    throw new Error('not implemented');
  }
  withdraw(_id: string): Promise<boolean> {
    throw new Error('not implemented');
  }
  onMatch(_listener: MatchListener): void {
    throw new Error('not implemented');
  }
  pending(): Promise<PendingSnapshot[]> {
    throw new Error('not implemented');
  }
  close(): Promise<void> {
    throw new Error('not implemented');
  }
}
