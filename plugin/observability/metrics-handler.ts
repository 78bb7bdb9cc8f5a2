import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';

/**
 * An Express handler that answers with the registry in Prometheus' text format. The host
 * mounts it where it likes, behind its own authentication: metrics name webhooks and tenants'
 * traffic, which is operator business.
 */
export function createMetricsHandler(registry: Registry): RequestHandler {
  return (_req, res, next) => {
    registry.metrics().then((text) => {
      res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store').send(text);
    }, next);
  };
}
