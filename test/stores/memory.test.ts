// Runs the store contract against the in-process MemoryStore.
import { MemoryStore } from '../../lib/stores/memory';
import { describeStoreContract } from './suite';

describeStoreContract({ name: 'MemoryStore', create: async () => new MemoryStore() });
