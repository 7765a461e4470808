/**
 * Builds the HTTP server: Fastify with validation, problem+json errors,
 * request ids, the OpenAPI document and every route, over the given pool.
 *
 * Layout: the root instance carries only the error handling, the body
 * parser and the health route, so the route the load test hammers runs no
 * hooks at all. Everything else lives in one hardened scope (security
 * headers, X-Request-Id echoed on every answer): the operator routes
 * (/metrics, /admin/*) and the `/api` scope, whose hooks run in this order:
 * query accounting, CORS (so even a 429 or 503 is readable by an allowed
 * browser origin), load shedding, API-key identification, rate limiting (on
 * the verified identity), the declared-security check, ETags.
 * The server is returned unstarted; the composition root decides when to
 * listen and how to close.
 */
import cors from '@fastify/cors';
import etag from '@fastify/etag';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Registry } from 'prom-client';
import type { ConnectionPool } from '../db/pool/pool.ts';
import type { PressureMonitor } from '../guards/pressure/monitor.ts';
import type { RateLimiter } from '../guards/rate-limit/index.ts';
import { createConnectionMetrics, registerHttpMetrics } from '../metrics/http-metrics.ts';
import type { Logger } from '../log/logger.ts';
import { adminQueriesRoutes } from '../profiler/admin-route.ts';
import type { QueryProfiler } from '../profiler/profiler.ts';
import { registerAbandonedMetrics } from '../metrics/abandoned-metrics.ts';
import { queryProfilerPlugin } from '../profiler/request-plugin.ts';
import type { CustomerStore } from '../store/customers.ts';
import type { OrderStore } from '../store/orders.ts';
import type { ProductStore } from '../store/products.ts';
import type { ReportStore } from '../store/reports.ts';
import { apiKeyAuth } from './auth/api-keys.ts';
import { limitConnections, timeoutOptions } from './connection-limits.ts';
import { createCursorCodec } from './cursor.ts';
import { createClientErrorHandler, createErrorHandler, createFrameworkErrorHandler, createNotFoundHandler } from './error-handler.ts';
import { corsOptions, securityHeaders, unmatchableOrigins } from './hardening.ts';
import { useStrictJsonBodies } from './json-body.ts';
import { lingerAfterEarlyAnswers } from './lingering-close.ts';
import { openApiOptions, swagger } from './openapi.ts';
import type { ReadConsistency } from './consistency.ts';
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
import { etagHash } from './etag-hash.ts';
import { httpSpans } from '../telemetry/http-spans.ts';
import type { Tracing } from '../telemetry/tracer.ts';

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
  /** Opens a server span per /api request when set (src/telemetry/http-spans.ts). */
  tracing?: Tracing | undefined;
  /** Read replicas configured: Consistency-Token on writes and reads, replicas in /api/health. */
  consistency?: ReadConsistency | undefined;
}

/**
 * @example
 * const server = await buildServer({ config, pool, logger, lifecycle, pressure, rateLimiter, metrics, profiler, stores });
 * await server.listen({ host: config.server.host, port: config.server.port });
 */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config, pool, logger, lifecycle, pressure, rateLimiter, metrics, profiler, stores } = deps;
  // Widened to Fastify's logger type so the instance is a plain FastifyInstance.
  const httpLogger: FastifyBaseLogger = logger.child({ component: 'http' });
  const connections = createConnectionMetrics(metrics);
  registerAbandonedMetrics(metrics);
  const app = Fastify({
    // Slow clients: bounded request, headers and keep-alive times (connection-limits.ts).
    ...timeoutOptions(config.server),
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
    // Malformed HTTP, oversized headers and requests that did not arrive in time.
    clientErrorHandler: createClientErrorHandler(connections),
  });
  limitConnections(app.server, config.server.maxConnections, () => connections.dropped.inc());
  connections.watch(app.server);
  // Read and discard at most what a request could have carried.
  lingerAfterEarlyAnswers(app.server, config.server.bodyLimitBytes);

  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(createErrorHandler(connections));
  app.setNotFoundHandler(createNotFoundHandler());
  // Only JSON bodies: without this, text/plain reaches validation as a string
  // and is refused as 400 instead of 415.
  app.removeContentTypeParser(['text/plain']);
  // Duplicate keys and deep nesting are refused as BAD_JSON (see json-body.ts).
  useStrictJsonBodies(app);

  await app.register(swagger, openApiOptions());
  await app.register(healthRoutes({ pool, pressure, replicas: deps.consistency?.replicas }), { prefix: '/api' });

  const auth = apiKeyAuth({ keys: config.apiKeys, logger: httpLogger });
  for (const origin of unmatchableOrigins(config.corsOrigins)) {
    httpLogger.warn({ origin }, 'CORS_ORIGINS entry is not an origin (scheme://host[:port], no path, no wildcard): it never matches');
  }
  const cursors = createCursorCodec(config.cursorSecret);
  const readiness = createReadinessCheck({ db: pool, isShuttingDown: () => lifecycle.isShuttingDown() });

  await app.register(async function hardened(scope) {
    await scope.register(securityHeaders());
    scope.addHook('onRequest', function echoRequestId(request, reply, done) {
      reply.header(REQUEST_ID_HEADER, request.id);
      done();
    });
    await scope.register(metricsRoutes({ registry: metrics, token: config.metrics.token, authFailures: rateLimiter.authFailures }));
    await scope.register(
      adminQueriesRoutes({ profiler, db: pool, adminToken: config.admin.token, authFailures: rateLimiter.authFailures }),
    );

    await scope.register(
      async function api(api) {
        // Tracing first, so its span covers every hook and the request's Context carries it.
        if (deps.tracing !== undefined) await api.register(httpSpans(deps.tracing));
        // Then accounting, so every later hook's and the handler's queries are counted.
        await api.register(
          queryProfilerPlugin(profiler, {
            requestBudgetMs: config.server.deadlineMs,
            priorities: config.overload.priorities,
            consistency: deps.consistency?.tokens,
          }),
        );
        registerHttpMetrics(api, metrics);
        // CORS before any refusal, so an allowed browser origin can read a 401, 429 or 503 too.
        if (config.corsOrigins.length > 0) await api.register(cors, corsOptions(config.corsOrigins));
        // Shedding next: an overloaded process should not even spend a rate-limit decision.
        await api.register(pressure.plugin);
        await api.register(auth.identify);
        await api.register(rateLimiter.plugin);
        // Each route's declared schema.security, enforced (auth/security.ts).
        await api.register(auth.enforce);
        // Weak ETags on every JSON answer, and 304 for a matching If-None-Match:
        // a client re-polling an unchanged page or product costs no body.
        await api.register(etag, { weak: true, hashFn: etagHash });
        await api.register(readyRoutes({ readiness }));
        await api.register(productRoutes({ products: stores.products, cursors }));
        await api.register(customerRoutes({ customers: stores.customers, cursors }));
        await api.register(orderRoutes({ orders: stores.orders, consistency: deps.consistency }));
        await api.register(reportRoutes({ reports: stores.reports, cursors }));
        await api.register(docsRoutes());
      },
      { prefix: '/api' },
    );
  });
  return app;
}

/** A hop count becomes proxy-addr's hop function, which Fastify's types accept. */
function trustProxyOption(value: false | number | string): false | string | ((address: string, hop: number) => boolean) {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : value;
}
