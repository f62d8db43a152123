// A small host app: its own routes beside netsync mounted at /sync, with its own 404 and error handlers.
const express = require('express');
const { netsync } = require('netsync');

/** Build the app; `sync.hub` is the rendezvous hub (close it on shutdown so waiters get 503 shutting_down). */
function createApp(options = {}) {
  const app = express();
  app.disable('x-powered-by');
  const sync = netsync({ maxWait: '1m', log: options.log ?? 'off' });

  app.get('/', (_req, res) => {
    res.type('text').send('example app: GET /health, GET|POST /sync/event, GET /sync/stats\n');
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/sync', sync);

  // Paths nobody served, netsync's unknown paths under /sync included, reach the host's own 404.
  app.use((req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
  });
  // netsync answers its own errors; this handler sees only the host's.
  app.use((err, _req, res, _next) => {
    const status = Number.isInteger(err.status) && err.status >= 400 && err.status < 600 ? err.status : 500;
    res.status(status).json({ error: { code: 'host_error', message: status === 500 ? 'internal error' : err.message } });
  });

  return { app, hub: sync.hub };
}

module.exports = { createApp };
