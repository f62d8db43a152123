// A small host app: a game lobby page, its own routes beside netsync mounted at /sync, and its own 404 and
// error handlers. The page (public/) talks to /sync through netsync/client, served from the package's build.
const { dirname, join } = require('node:path');
const express = require('express');
const { netsync } = require('netsync');

/** The ES modules of the client build the page imports: `client.mjs` and the chunks it shares with the server. */
const CLIENT_MODULE = /^(?:client|chunk-[\w-]+)\.mjs$/;

/** Build the app; `sync.hub` is the rendezvous hub (close it on shutdown so waiters get 503 shutting_down). */
function createApp(options = {}) {
  const app = express();
  app.disable('x-powered-by');
  // Redacted: the lobby's panel needs names (actors) and levels (labels) only; a payload carries a candidate
  // game id, which onlookers must not read and use to join someone else's game.
  const sync = netsync({ maxWait: '1m', stats: 'redacted', log: options.log ?? 'off' });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.use('/sync', sync);
  app.get('/netsync/:file', sendClientModule);
  app.use(express.static(join(__dirname, 'public')));

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

/**
 * `GET /netsync/client.mjs` (and its chunks): the installed package's own ESM build, so the page runs the same
 * client as Node.js hosts, with no copy to keep in step and no bundler.
 */
function sendClientModule(req, res, next) {
  const { file } = req.params;
  if (!CLIENT_MODULE.test(file)) {
    next();
    return;
  }
  // Resolved per request: a host that copies only this file (and never serves the page) needs no build.
  const root = dirname(require.resolve('netsync/client'));
  res.sendFile(file, { root, headers: { 'cache-control': 'no-cache' } }, (err) => {
    if (err === undefined || res.headersSent) return;
    next(err.status === 404 ? undefined : err);
  });
}

module.exports = { createApp };
