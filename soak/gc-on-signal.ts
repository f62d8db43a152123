// Preloaded into the storm's server (with --expose-gc): SIGUSR2 runs a full collection, so readings after each round compare like for like.
const collect = (globalThis as { gc?: () => void }).gc;
process.on('SIGUSR2', () => {
  collect?.();
  // One line on stdout per request (the CLI itself prints nothing there with --log off): the heap left after it.
  process.stdout.write(collect === undefined ? 'soak: no gc\n' : `soak: gc ${process.memoryUsage().heapUsed}\n`);
});
