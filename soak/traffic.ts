// Sends the ledger's requests and collects their answers into the ledger and a tally.
import { send, type Call } from './client';
import type { SoakContext } from './context';
import { pathOf, type Sent } from './ledger';
import { count, type Documented503, type Tally } from './outcomes';

/** A request of the ledger on its way. */
export interface Flight {
  readonly sent: Sent;
  readonly call: Call;
}

/** Send `s` to `port`; its answer lands in `s.answer`. */
export function launch(ctx: SoakContext, port: number, s: Sent, timeout?: string): Flight {
  const call = send(port, { path: pathOf(s, timeout), deadlineMs: ctx.deadlineMs }, ctx.gate);
  void call.answer.then((answer) => (s.answer = answer));
  return { sent: s, call };
}

/** Wait for every flight's answer and count it. */
export async function settle(flights: readonly Flight[], tally: Tally, documented: ReadonlySet<Documented503>): Promise<void> {
  const answers = await Promise.all(flights.map((f) => f.call.answer));
  for (const [i, answer] of answers.entries()) {
    (flights[i] as Flight).sent.answer = answer;
    count(tally, answer, documented);
  }
}

/** The same items in random order. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
