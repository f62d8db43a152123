// A tiny real HTTP server that answers from a script, for what a netsync server will not do on cue (503 twice, Retry-After).
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An answer: status, headers and body text, or `drop` to close the connection without answering. */
export type Scripted = { status: number; headers?: Record<string, string>; body: string } | 'drop';

export interface ScriptedServer {
  readonly url: string;
  readonly seen: SeenRequest[];
  /** Resolves once the server has seen `count` requests. */
  requests(count: number): Promise<void>;
  close(): Promise<void>;
}

/** JSON answer helpers. */
export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Scripted => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value),
});
export const netsyncError = (status: number, code: string, headers: Record<string, string> = {}): Scripted =>
  json(status, { error: { code, message: `scripted ${code}` } }, headers);

/** Serve `script` in order; the last entry answers every request after it. */
export async function scriptedServer(script: readonly Scripted[]): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  const waiting: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answer = script[Math.min(seen.length, script.length - 1)] as Scripted;
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      for (const w of waiting.filter((x) => seen.length >= x.count)) w.resolve();
      write(res, answer);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sync`,
    seen,
    requests: (count) => (seen.length >= count ? Promise.resolve() : new Promise((resolve) => waiting.push({ count, resolve }))),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function write(res: ServerResponse, answer: Scripted): void {
  if (answer === 'drop') {
    res.socket?.destroy();
    return;
  }
  res.writeHead(answer.status, answer.headers ?? {});
  res.end(answer.body);
}
