// `GET /metrics` of the standalone server (`--metrics`): the hub's metrics and the process's own, on a private registry.
import type { Request, RequestHandler, Response } from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { netsyncMetrics } from '../index';
import type { Netsync } from '../index';

/** A handler serving `hub`'s metrics and Node.js process metrics in the Prometheus text format. */
export function metricsEndpoint(hub: Netsync): RequestHandler {
  // A registry of its own: the server is the only host, and nothing else should land on a global one.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  netsyncMetrics(hub, { registry });
  return function netsyncMetricsEndpoint(_req: Request, res: Response): void {
    registry.metrics().then(
      (text) => {
        res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(text);
      },
      () => {
        res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
      },
    );
  };
}
