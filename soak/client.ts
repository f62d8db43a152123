// The soak's HTTP client: one fresh loopback connection per request, so thousands can wait at once and each can be cut.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** How one request ended. */
export interface Answer {
  /** HTTP status, or 0 when no response came (socket error, abort, deadline). */
  readonly status: number;
  /** The body's first `keepBytes` bytes as text. */
  readonly body: string;
  /** Length of the whole body in bytes. */
  readonly bytes: number;
  readonly contentType: string;
  /** From the first byte written to the last byte read (or to the failure). */
  readonly ms: number;
  /** Why no response came: `cut by the soak` (abort), `deadline`, or the socket error's message. */
  readonly failure?: string;
}

/** A request to send: a path with its query, and optionally a body sent at once or in timed pieces. */
export interface RequestSpec {
  readonly method?: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  /** Send the body in this many pieces, `trickleMs` apart (a slow client). */
  readonly pieces?: number;
  readonly trickleMs?: number;
  /** The caller gives up after this long and counts the request as hung. */
  readonly deadlineMs: number;
}

/** A request in flight. */
export interface Call {
  readonly answer: Promise<Answer>;
  /** Resolves once the request has a connection (or failed to get one). */
  readonly connected: Promise<void>;
  /** Close the connection (the client goes away); no-op once answered. */
  abort(): void;
}

/** Bodies can be huge (an expanded alias bomb); only this much of each is kept for checks. */
const KEEP_BYTES = 1 << 20;

/** Counts connection attempts in progress, so thousands of waiters do not overflow the server's accept queue. */
export class ConnectGate {
  #inFlight = 0;
  readonly #queue: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async enter(): Promise<void> {
    if (this.#inFlight < this.limit) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.#queue.push(resolve));
  }

  leave(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#inFlight--;
  }
}

/** Send `spec` to 127.0.0.1:`port` on its own connection, once `gate` lets a connection start. */
export function send(port: number, spec: RequestSpec, gate: ConnectGate): Call {
  let abortRequested = false;
  let cut: (() => void) | undefined;
  let markConnected: () => void = () => undefined;
  const connected = new Promise<void>((resolve) => (markConnected = resolve));
  const answer = (async (): Promise<Answer> => {
    await gate.enter();
    let left = false;
    const leave = (): void => {
      if (!left) {
        left = true;
        gate.leave();
        markConnected();
      }
    };
    try {
      if (abortRequested) return { status: 0, body: '', bytes: 0, contentType: '', ms: 0, failure: 'cut by the soak' };
      return await exchange(port, spec, leave, (fn) => (cut = fn));
    } finally {
      leave();
    }
  })();
  return {
    answer,
    connected,
    abort: () => {
      abortRequested = true;
      cut?.();
    },
  };
}

function exchange(port: number, spec: RequestSpec, onConnect: () => void, setCut: (cut: () => void) => void): Promise<Answer> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let settled = false;
    let failure = '';
    const chunks: Buffer[] = [];
    let kept = 0;
    let bytes = 0;
    const finish = (status: number, contentType: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      const result: Answer = { status, body: Buffer.concat(chunks).toString('utf8'), bytes, contentType, ms: performance.now() - t0 };
      resolve(status === 0 ? { ...result, failure: failure || 'closed' } : result);
    };
    let req: http.ClientRequest;
    try {
      req = http.request({
        host: '127.0.0.1',
        port,
        method: spec.method ?? (spec.body === undefined ? 'GET' : 'POST'),
        path: spec.path,
        headers: { ...spec.headers, ...(spec.pieces ? {} : bodyLength(spec.body)) },
        agent: false,
      });
    } catch (error) {
      // A request Node itself refuses to send (a bad character in the path) is the soak's own mistake.
      resolve({ status: 0, body: '', bytes: 0, contentType: '', ms: 0, failure: `not sent: ${(error as Error).message}` });
      return;
    }
    const cut = (why: string): void => {
      failure ||= why;
      req.destroy();
      finish(0, '');
    };
    setCut(() => cut('cut by the soak'));
    const deadline = setTimeout(() => cut('deadline'), spec.deadlineMs);
    req.on('socket', (socket) => {
      if (!socket.connecting) onConnect();
      else socket.once('connect', onConnect);
    });
    req.on('error', (error) => {
      failure ||= error.message;
      finish(0, '');
    });
    req.on('response', (res) => {
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (kept < KEEP_BYTES) {
          chunks.push(chunk);
          kept += chunk.length;
        }
      });
      res.on('end', () => finish(res.statusCode ?? 0, String(res.headers['content-type'] ?? '')));
      res.on('error', (error) => {
        failure ||= error.message;
        finish(0, '');
      });
    });
    writeBody(req, spec);
  });
}

function bodyLength(body: string | Buffer | undefined): Record<string, string> {
  return body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
}

/** Write the body whole, or in pieces with pauses (chunked), then end the request. */
function writeBody(req: http.ClientRequest, spec: RequestSpec): void {
  const { body, pieces = 0, trickleMs = 0 } = spec;
  if (body === undefined) {
    req.end();
    return;
  }
  if (pieces <= 1) {
    req.end(body);
    return;
  }
  const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const size = Math.ceil(buffer.length / pieces);
  let at = 0;
  const next = (): void => {
    if (req.destroyed) return;
    const piece = buffer.subarray(at, at + size);
    at += size;
    if (at >= buffer.length) req.end(piece);
    else {
      req.write(piece);
      setTimeout(next, trickleMs);
    }
  };
  next();
}
