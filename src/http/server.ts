/**
 * Builds the HTTP server: Fastify with validation, problem+json errors,
 * request ids, the OpenAPI document and every route, over the given pool.
 *
 * Layout: the root instance carries only the error handling and the health
 * route, so the route the load test hammers runs no hooks at all. Everything
 * else lives in one `/api` scope whose single hook echoes X-Request-Id.
 * The server is returned unstarted; the composition root decides when to
 * listen and how to close.
 */
import etag from '@fastify/etag';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Registry } from 'prom-client';
import type { ConnectionPool } from '../db/pool/pool.ts';
import type { PressureMonitor } from '../guards/pressure/monitor.ts';
import type { RateLimiter } from '../guards/rate-limit/index.ts';
import { registerHttpMetrics } from '../metrics/http-metrics.ts';
import type { Logger } from '../log/logger.ts';
import { adminQueriesRoutes } from '../profiler/admin-route.ts';
import type { QueryProfiler } from '../profiler/profiler.ts';
import { queryProfilerPlugin } from '../profiler/request-plugin.ts';
import type { CustomerStore } from '../store/customers.ts';
import type { OrderStore } from '../store/orders.ts';
import type { ProductStore } from '../store/products.ts';
import type { ReportStore } from '../store/reports.ts';
import { createCursorCodec } from './cursor.ts';
import { createErrorHandler, createFrameworkErrorHandler, createNotFoundHandler } from './error-handler.ts';
import { openApiOptions, swagger } from './openapi.ts';
import { createReadinessCheck } from './readiness.ts';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.ts';
import { customerRoutes } from './routes/customers.ts';
import { docsRoutes } from './routes/docs.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { orderRoutes } from './routes/orders.ts';
import { productRoutes } from './routes/products.ts';
import { readyRoutes } from './routes/ready.ts';
import { reportRoutes } from './routes/reports.ts';
import { createValidatorCompiler } from './validation.ts';

export interface ServerDeps {
  config: Config;
  /** Started pool; the server never ends it. */
  pool: ConnectionPool;
  logger: Logger;
  lifecycle: { isShuttingDown(): boolean };
  /** Sheds /api work while memory or the event loop is critical. */
  pressure: PressureMonitor;
  rateLimiter: RateLimiter;
  metrics: Registry;
  /** Per-request query accounting (Server-Timing, N+1) and /admin/queries. */
  profiler: QueryProfiler;
  /** The repositories, as the composition root built them (cached or not). */
  stores: { products: ProductStore; customers: CustomerStore; orders: OrderStore; reports: ReportStore };
}

/**
 * @example
 * const server = await buildServer({ config, pool, logger, lifecycle });
 * await server.listen({ host: config.server.host, port: config.server.port });
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, pool, logger, lifecycle, pressure, rateLimiter, metrics, profiler, stores } = deps;
  // Widened to Fastify's logger type so the instance is a plain FastifyInstance.
  const httpLogger: FastifyBaseLogger = logger.child({ component: 'http' });
  const app = Fastify({
    loggerInstance: httpLogger,
    // Per-request log lines would dominate the cost of cheap routes under
    // load; failures are logged by the error handler instead.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: trustProxyOption(config.server.trustProxy),
    // While closing, Fastify's default answers requests on kept-alive sockets
    // with its own 503 (not problem+json, no Retry-After). Serving them, with
    // `Connection: close`, is the graceful drain; readiness already says 503.
    return503OnClosing: false,
    frameworkErrors: createFrameworkErrorHandler(),
  });

  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(createErrorHandler());
  app.setNotFoundHandler(createNotFoundHandler());
  // Only JSON bodies: without this, text/plain reaches validation as a string
  // and is refused as 400 instead of 415.
  app.removeContentTypeParser(['text/plain']);

  await app.register(swagger, openApiOptions());
  await app.register(healthRoutes({ pool, pressure }), { prefix: '/api' });
  await app.register(metricsRoutes({ registry: metrics, token: config.metrics.token }));
  await app.register(adminQueriesRoutes({ profiler, db: pool, adminToken: config.admin.token }));

  const cursors = createCursorCodec(config.cursorSecret);
  const readiness = createReadinessCheck({ db: pool, isShuttingDown: () => lifecycle.isShuttingDown() });
  await app.register(
    async function api(scope) {
      // First, so every later hook's and the handler's queries are counted.
      await scope.register(queryProfilerPlugin(profiler));
      scope.addHook('onRequest', async function echoRequestId(request, reply) {
        reply.header(REQUEST_ID_HEADER, request.id);
      });
      registerHttpMetrics(scope, metrics);
      // Shedding first: an overloaded process should not even spend a rate-limit decision.
      await scope.register(pressure.plugin);
      await scope.register(rateLimiter.plugin);
      // Weak ETags on every JSON answer, and 304 for a matching If-None-Match:
      // a client re-polling an unchanged page or product costs no body.
      await scope.register(etag, { weak: true });
      await scope.register(readyRoutes({ readiness }));
      await scope.register(productRoutes({ products: stores.products, cursors }));
      await scope.register(customerRoutes({ customers: stores.customers, cursors }));
      await scope.register(orderRoutes({ orders: stores.orders }));
      await scope.register(reportRoutes({ reports: stores.reports, cursors }));
      await scope.register(docsRoutes());
    },
    { prefix: '/api' },
  );
  return app;
}

/** A hop count becomes proxy-addr's hop function, which Fastify's types accept. */
function trustProxyOption(value: boolean | number | string): boolean | string | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : value;
}
