// Runs the example app (the lobby page at /, netsync at /sync): `npm run example` (builds first when lib/
// changed), or `node example-app/server.js` after `npm run build`; PORT defaults to 3000.
const { createServer } = require('node:http');
const { expressServerOptions } = require('netsync');
const { createApp } = require('./app');

const port = Number(process.env.PORT ?? 3000);
const { app, hub } = createApp({ log: 'graph' });
// Requests built with the app's prototypes (README, serving many waiters); `app.listen(port)` works too.
const server = createServer(expressServerOptions(app), app).listen(port, () => {
  console.log(`example app listening on http://localhost:${server.address().port}`);
});

function stop() {
  server.close();
  server.closeIdleConnections();
  hub.close().then(() => process.exit(0));
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
