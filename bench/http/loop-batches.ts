// Preloaded into a server traced with `--gc`: counts the HTTP requests each event-loop iteration dispatches, and
// prints the running totals whenever the orchestrator sends SIGUSR2 (at the start and end of a measured phase).
import http from 'node:http';
import { LOOP_BATCHES_MARK } from './common';

let requests = 0;
let iterations = 0;
let sinceLastTurn = 0;
let squares = 0;

// Every request of any server of this process passes through Server#emit('request').
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function countRequests(this: http.Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'request') sinceLastTurn++;
  return Reflect.apply(emit, this, [event, ...args]) as boolean;
} as typeof emit;

// setImmediate runs once per loop iteration (the check phase), after that iteration's I/O callbacks.
const turn = (): void => {
  if (sinceLastTurn > 0) {
    iterations++;
    requests += sinceLastTurn;
    squares += sinceLastTurn * sinceLastTurn;
    sinceLastTurn = 0;
  }
  setImmediate(turn).unref();
};
turn();

process.on('SIGUSR2', () => {
  process.stdout.write(`${LOOP_BATCHES_MARK}${JSON.stringify({ iterations, requests, squares })}\n`);
});
