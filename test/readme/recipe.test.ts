// The README's recipe for testing a host app's netsync integration with supertest, run as written.
import express from 'express';
import request from 'supertest';
import { netsync } from '../../lib/router';

/** A host app as the recipe assumes: its own route, netsync at /sync. */
function createApp(): { app: express.Express; hub: ReturnType<typeof netsync>['hub'] } {
  const app = express();
  const sync = netsync();
  app.get('/health', (_req, res) => {
    res.send('ok');
  });
  app.use('/sync', sync);
  return { app, hub: sync.hub };
}

describe('the supertest recipe', () => {
  it('lets two players meet', async () => {
    const { app, hub } = createApp();
    const join = (actor: string): request.Test =>
      request(app).get('/sync/event').query({ event: 'joinGame', actor, payload: actor, timeout: '5s' });

    const [a, b] = await Promise.all([join('player1'), join('player2')]);

    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body.payloads).toEqual({ player1: 'player1', player2: 'player2' });
    await hub.close();
  });

  it('sees a lonely request time out, and a waiter answered shutting_down on close', async () => {
    const { app, hub } = createApp();
    const lonely = await request(app).get('/sync/event').query({ event: 'e', actor: 'a', timeout: '50ms' });
    expect(lonely.status).toBe(504);
    expect(lonely.body.error.code).toBe('timeout');

    const waiting = request(app).get('/sync/event').query({ event: 'e', actor: 'a' }).then((res) => res);
    await new Promise((resolve) => hub.once('pending', resolve));
    await hub.close();
    const res = await waiting;
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('shutting_down');
  });
});
