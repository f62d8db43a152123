// The reference servers: a bare Express 5 app that answers `{ok:true}`, or (with `hold`) one that never answers.
import express from 'express';
import type { Response } from 'express';

const hold = process.argv.includes('hold');
const app = express();
const held = new Set<Response>();

if (hold) {
  // The memory floor: what Express itself costs to keep a request open, with nothing else going on.
  app.get('/count', (_req, res) => {
    res.json({ held: held.size });
  });
  app.all('/event', (_req, res) => {
    held.add(res);
    res.on('close', () => held.delete(res));
  });
} else {
  app.all('/event', (_req, res) => {
    res.json({ ok: true });
  });
}

const server = app.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
