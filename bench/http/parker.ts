// Parker process: holds many never-matching requests open, one raw keep-alive socket each, until it is killed.
import net from 'node:net';
import readline from 'node:readline';
import { ghostPath } from './common';

/** What the orchestrator asks the parker to hold. */
interface ParkConfig {
  readonly port: number;
  readonly count: number;
  readonly event: string;
  /** `distinct`: ghost0, ghost1, …; `same`: every waiter is the identical request `ghost`. */
  readonly actors: 'distinct' | 'same';
  /** Give waiter i the event `<event>i` instead of all sharing `event`. */
  readonly eventPerWaiter: boolean;
  /** `same`: every waiter wants `role=ghost`; `distinct`: waiter i wants `actor=absent<i>` (a friend who never comes). */
  readonly selectors?: 'same' | 'distinct';
}

const config = JSON.parse(process.argv[2] ?? '{}') as ParkConfig;
const sockets: net.Socket[] = [];
let answered = 0;
let closed = 0;
let failed = 0;

function park(i: number): Promise<void> {
  const actor = config.actors === 'same' ? 'ghost' : `ghost${i}`;
  const event = config.eventPerWaiter ? `${config.event}${i}` : config.event;
  const selector = config.selectors === 'distinct' ? `actor=absent${i}` : 'role=ghost';
  const request = `GET ${ghostPath(event, actor, selector)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`;
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: config.port });
    let settled = false;
    const settle = (): void => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    socket.once('connect', () => socket.write(request, settle));
    // A parked request must never be answered: any byte back is a match or an error the check reports.
    socket.once('data', () => answered++);
    socket.on('error', () => {
      failed++;
      settle();
    });
    socket.once('close', () => {
      closed++;
      settle();
    });
    sockets.push(socket);
  });
}

async function main(): Promise<void> {
  // A bounded number of connects in flight keeps the server's accept queue from overflowing.
  const inFlight = 256;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < config.count) await park(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  process.stdout.write(`${JSON.stringify({ parked: sockets.length - failed })}\n`);
  // The orchestrator asks for a status line whenever it wants to check that the waiters are intact.
  readline.createInterface({ input: process.stdin }).on('line', () => {
    process.stdout.write(`${JSON.stringify({ answered, closed, failed, held: sockets.length - closed })}\n`);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`parker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
