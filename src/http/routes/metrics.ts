/**
 * GET /metrics: Prometheus text format, for scrapers.
 *
 * Outside /api on purpose: never rate limited (successful scrapes), never shed, so the operator
 * can see why the service is refusing work while it refuses it. Protected by
 * a bearer token when METRICS_TOKEN is set; failed attempts are limited per
 * client address like the admin routes' (src/guards/rate-limit/auth-failures.ts),
 * and successful scrapes are never charged.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors/app-error.ts';
import type { AuthFailureGuard } from '../../guards/rate-limit/auth-failures.ts';
import { bearerCheck } from '../auth/bearer.ts';

/**
 * @example
 * app.register(metricsRoutes({ registry, token: config.metrics.token, authFailures: rateLimiter.authFailures }));
 */
export function metricsRoutes(deps: { registry: Registry; token: string | undefined; authFailures: AuthFailureGuard }) {
  const { registry, token, authFailures } = deps;
  const authorized = bearerCheck(token);
  return async function metrics(app: FastifyInstance) {
    app.get('/metrics', { schema: { hide: true } }, async function getMetrics(request, reply) {
      const authenticated = token === undefined || (await authFailures.attempt(request, () => authorized(request.headers.authorization)));
      if (authenticated instanceof AppError) throw authenticated;
      if (!authenticated) {
        reply.header('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new AppError('UNAUTHORIZED', 'GET /metrics requires Authorization: Bearer <METRICS_TOKEN>');
      }
      reply.header('Content-Type', registry.contentType).header('Cache-Control', 'no-store');
      return registry.metrics();
    });
  };
}
