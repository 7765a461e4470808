/**
 * GET /metrics: Prometheus text format, for scrapers; OpenMetrics with
 * exemplars when the scraper asks for it (src/metrics/openmetrics.ts),
 * except from a cluster worker, whose answer is the primary's aggregate.
 *
 * Outside /api on purpose: never rate limited (successful scrapes), never shed, so the operator
 * can see why the service is refusing work while it refuses it. Protected by
 * a bearer token when METRICS_TOKEN is set. Without one it is served to
 * loopback clients only (403 FORBIDDEN to anyone else): the exposition names
 * the process's memory, open files, Node version and traffic, which is no
 * business of an anonymous client, and a scraper on the same host (or a
 * sidecar) keeps working with no setting at all. Failed token attempts are
 * limited per client address like the admin routes' (src/guards/rate-limit/auth-failures.ts),
 * and successful scrapes are never charged. See docs/SECURITY.md.
 */
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { AppError } from '../../errors/app-error.ts';
import type { AuthFailureGuard } from '../../guards/rate-limit/auth-failures.ts';
import { WorkerRegistry } from '../../cluster/worker-registry.ts';
import { OPENMETRICS_CONTENT_TYPE, openMetricsText, wantsOpenMetrics } from '../../metrics/openmetrics.ts';
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
      // Both the peer and the client it speaks for (a trusted proxy's X-Forwarded-For).
      if (token === undefined && !(isLoopback(request.socket.remoteAddress) && isLoopback(request.ip))) {
        throw new AppError('FORBIDDEN', 'GET /metrics is served to loopback clients only while METRICS_TOKEN is unset');
      }
      reply.header('Cache-Control', 'no-store').header('Vary', 'Accept');
      // A cluster worker serves the primary's aggregate, in Prometheus text only:
      // exemplars are per process and do not survive aggregation.
      if (wantsOpenMetrics(request.headers.accept) && !(registry instanceof WorkerRegistry)) {
        return reply.header('Content-Type', OPENMETRICS_CONTENT_TYPE).send(await openMetricsText(registry));
      }
      reply.header('Content-Type', registry.contentType);
      return registry.metrics();
    });
  };
}

/** 127.0.0.0/8, ::1, or either written as an IPv4-mapped IPv6 address. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(plain) === 4) return plain.startsWith('127.');
  return plain === '::1' || plain === '0:0:0:0:0:0:0:1';
}
