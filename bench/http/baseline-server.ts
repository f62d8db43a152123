// The reference servers: a bare Express 5 app that answers `{ok:true}`; with `hold`, one that never answers;
// with `mixed`, one that answers at once but holds the parker's requests (`payload=parked`) open. With
// `prototyped`, served as the standalone server is (expressServerOptions, and the V8 settings it makes for
// itself) instead of by `app.listen`.
import { createServer } from 'node:http';
import express from 'express';
import type { Request, Response } from 'express';
import { tuneHeap } from '../../lib/cli/heap';
import { expressServerOptions } from '../../lib/server';

const mode = process.argv.includes('hold') ? 'hold' : process.argv.includes('mixed') ? 'mixed' : 'answer';
const app = express();
// The backlog's control answers as netsync does, without an ETag. Express's default ETag hashes every body with
// a native crypto object, and beside thousands of held requests those objects make each young-generation
// collection keep about 20 times more (BENCHMARKS.md): a cost of the control's own answers, not of holding.
if (mode === 'mixed') app.set('etag', false);
const held = new Set<Response>();

const holdOpen = (res: Response): void => {
  held.add(res);
  res.on('close', () => held.delete(res));
};
// The parker marks its never-matching requests with `payload=parked` (bench/http/common.ts, ghostPath).
const parked = (req: Request): boolean => req.query.payload === 'parked';

if (mode !== 'answer') {
  app.get('/count', (_req, res) => {
    res.json({ held: held.size });
  });
}
if (mode === 'hold') {
  // The memory floor: what Express itself costs to keep a request open, with nothing else going on.
  app.all('/event', (_req, res) => holdOpen(res));
} else {
  // The throughput floor (mixed): what holding requests open costs Express while it answers others.
  app.all('/event', (req, res) => {
    if (mode === 'mixed' && parked(req)) holdOpen(res);
    else res.json({ ok: true });
  });
}

const prototyped = process.argv.includes('prototyped');
if (prototyped) tuneHeap();
const server = (prototyped ? createServer(expressServerOptions(app), app) : createServer(app)).listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
