/**
 * GET /metrics: Prometheus text format, for scrapers.
 *
 * Outside /api on purpose: never rate limited, never shed, so the operator
 * can see why the service is refusing work while it refuses it. Protected by
 * a bearer token when METRICS_TOKEN is set.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors/app-error.ts';
import { bearerCheck } from '../auth/bearer.ts';

/**
 * @example
 * app.register(metricsRoutes({ registry, token: config.metrics.token }));
 */
export function metricsRoutes(deps: { registry: Registry; token: string | undefined }) {
  const { registry, token } = deps;
  const authorized = bearerCheck(token);
  return async function metrics(app: FastifyInstance) {
    app.get('/metrics', { schema: { hide: true } }, async function getMetrics(request, reply) {
      if (token !== undefined && !authorized(request.headers.authorization)) {
        reply.header('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new AppError('UNAUTHORIZED', 'GET /metrics requires Authorization: Bearer <METRICS_TOKEN>');
      }
      reply.header('Content-Type', registry.contentType).header('Cache-Control', 'no-store');
      return registry.metrics();
    });
  };
}
