/**
 * Request duration by route pattern and status, for Prometheus.
 *
 * The label is the route pattern (`/api/products/:id`), never the raw URL:
 * raw URLs would mint one time series per product id and exhaust memory.
 */
import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Adds an onResponse hook that observes every request's duration.
 *
 * @example
 * registerHttpMetrics(server, registry);
 */
export function registerHttpMetrics(server: FastifyInstance, registry: Registry): Histogram<'method' | 'route' | 'status_code'> {
  const duration = new Histogram({
    name: 'holdfast_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: BUCKETS_S,
    registers: [registry],
  });
  server.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
  return duration;
}
