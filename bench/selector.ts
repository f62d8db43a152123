// Selector benchmark: parses/s, matches/s of a compiled selector, and heap growth while matching. Prints, asserts nothing.
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseSelector, type Labels } from '../lib/selector';

const quick = process.argv.includes('--quick');
const budgetMs = quick ? 100 : 1000;

// A gc() handle without needing --expose-gc on the command line.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function rate(run: () => void): number {
  for (let i = 0; i < 1000; i++) run(); // warm up
  let count = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 1000; i++) run();
    count += 1000;
    now = process.hrtime.bigint();
  }
  return count / (Number(now - start) / 1e9);
}

const format = (n: number): string => Math.round(n).toLocaleString('en-US');

const typical = [
  'actor != player1',
  'kind in (player,bot),!banned',
  'level>3,region=eu,kind notin (spectator)',
  'example.com/tier in (gold,silver,bronze),level<100,!banned,actor!=john.doe,region',
];

console.log(`selector benchmark${quick ? ' (quick)' : ''}`);
for (const text of typical) {
  console.log(`  parse  ${format(rate(() => parseSelector(text))).padStart(12)} /s  ${JSON.stringify(text)}`);
}

const selector = parseSelector('kind in (player,bot),!banned,level>3,region=eu,tier notin (bronze,iron)');
const labels: Labels = Object.assign(Object.create(null) as Record<string, string>, {
  actor: 'player7', kind: 'bot', level: '12', region: 'eu', tier: 'gold',
});
let matched = 0;
const matchRate = rate(() => {
  if (selector.matches(labels)) matched++;
});
console.log(`  match  ${format(matchRate).padStart(12)} /s  ${JSON.stringify(selector.toString())} against 5 labels`);

// Heap growth and garbage collections during a long matching loop: zero collections means no allocation.
const iterations = quick ? 1_000_000 : 20_000_000;
let collections = 0;
const observer = new PerformanceObserver((list) => {
  collections += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < iterations; i++) {
  if (selector.matches(labels)) matched++;
}
const after = process.memoryUsage().heapUsed;
// Observer entries arrive asynchronously; let them in before reading the count.
setImmediate(() => {
  observer.disconnect();
  console.log(`  heap   ${format(after - before).padStart(12)} bytes growth over ${format(iterations)} matches, ${collections} GC run(s) during the loop`);
  if (matched === 0) console.log('  (no match: the benchmark selector is wrong)');
});
