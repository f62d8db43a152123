// Run as its own Node process with --allow-natives-syntax (see heap.test.ts): parks a crowd of waiters in a
// fresh hub, as a restarted server meets its reconnecting clients, then forms pairs, and prints where V8 made
// the objects the hub made for each of those pairs' requests: in the young generation, or already old.
// With the argument `tuned`, the process first takes the standalone server's V8 settings.
import type { PendingRequest } from '../../../lib';
import { MemoryStore, Netsync } from '../../../lib';
import { tuneHeap } from '../../../lib/cli/heap';

// The syntax is only accepted at run time under the flag, so it is compiled from text here.
const inYoungGeneration = new Function('o', 'return %InYoungGeneration(o)') as (o: object) => boolean;

const PARKED_BATCHES = 40;
const PARKED_PER_BATCH = 500;
const PAIR_BATCHES = 40;
const PAIRS_PER_BATCH = 100;

/** One event-loop turn: the parked crowd arrives over many, as connections do, with collections between. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function main(): Promise<void> {
  if (process.argv[2] === 'tuned') tuneHeap();
  const hub = new Netsync({ store: new MemoryStore(), maxPending: PARKED_BATCHES * PARKED_PER_BATCH + 2 * PAIRS_PER_BATCH });
  const where = { young: 0, old: 0 };
  let counting = false;
  hub.on('pending', (req: PendingRequest) => {
    if (!counting) return;
    for (const made of [req, req.params, req.spec]) where[inYoungGeneration(made) ? 'young' : 'old']++;
  });
  const parked: Promise<unknown>[] = [];
  for (let batch = 0; batch < PARKED_BATCHES; batch++) {
    for (let i = 0; i < PARKED_PER_BATCH; i++) {
      // Nobody has the label `role=ghost`: these wait until the hub closes.
      parked.push(hub.send({ event: 'crowd', actor: `ghost${batch}-${i}`, selector: 'role=ghost' }).catch(() => undefined));
    }
    await nextTurn();
  }
  counting = true;
  for (let batch = 0; batch < PAIR_BATCHES; batch++) {
    const pairs: Promise<unknown>[] = [];
    for (let i = 0; i < PAIRS_PER_BATCH; i++) {
      const event = `pair${batch}-${i}`;
      pairs.push(hub.send({ event, actor: 'a' }), hub.send({ event, actor: 'b' }));
    }
    await Promise.all(pairs);
    await nextTurn();
  }
  counting = false;
  await hub.close();
  await Promise.all(parked);
  process.stdout.write(JSON.stringify(where));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
