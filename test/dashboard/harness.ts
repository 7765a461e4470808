/**
 * Holdfast with the dashboard registered, for the dashboard suites.
 *
 * Until the composition root registers `dashboardRoutes`, startTestApp's
 * server is already listening when a test gets it, too late to add routes.
 * So this builds the same parts src/app.ts builds (pool, profiler, cache,
 * stores, pressure monitor, rate limiter, registry, the real buildServer),
 * registers the dashboard on the unstarted server and listens on a free
 * port. Once src/app.ts registers it, this can become `startTestApp`.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { cachedProductStore, cachedReportStore, invalidatingOrderStore } from '../../src/cache/cached-stores.ts';
import { cacheMetrics } from '../../src/cache/metrics.ts';
import { createQueryCache, type QueryCache } from '../../src/cache/query-cache.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { dashboardRoutes, type DashboardDeps } from '../../src/dashboard/index.ts';
import { createPool, type ConnectionPool } from '../../src/db/pool/pool.ts';
import { createPressureMonitor, type PressureMonitor } from '../../src/guards/pressure/monitor.ts';
import { pressureMetrics } from '../../src/guards/pressure/metrics.ts';
import { createRateLimiter } from '../../src/guards/rate-limit/index.ts';
import { rateLimitMetrics } from '../../src/guards/rate-limit/metrics.ts';
import { buildServer } from '../../src/http/server.ts';
import { createLifecycle } from '../../src/lifecycle/lifecycle.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { profilerMetrics } from '../../src/profiler/metrics.ts';
import { createQueryProfiler, type QueryProfiler } from '../../src/profiler/profiler.ts';
import { createCustomerStore } from '../../src/store/customers.ts';
import { createOrderStore } from '../../src/store/orders.ts';
import { createProductStore } from '../../src/store/products.ts';
import { createReportStore } from '../../src/store/reports.ts';
import { createTestDatabase } from '../helpers/database.ts';
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts';

export interface DashboardApp {
  baseUrl: string;
  config: Config;
  server: FastifyInstance;
  pool: ConnectionPool;
  pressure: PressureMonitor;
  profiler: QueryProfiler;
  cache: QueryCache;
  metrics: Registry;
  logs: CapturedLogs;
  /** Stops the server and every part, drops the database. Idempotent. */
  close(): Promise<void>;
}

export interface DashboardAppOptions {
  env?: Record<string, string>;
  /** Passed to dashboardRoutes (maxStreams, intervalMs). */
  dashboard?: Pick<DashboardDeps, 'maxStreams' | 'intervalMs'>;
}

/**
 * @example
 * const app = await startDashboardApp({ env: { ADMIN_TOKEN: 'secret' } });
 * afterAll(() => app.close());
 */
export async function startDashboardApp(options: DashboardAppOptions = {}): Promise<DashboardApp> {
  const database = await createTestDatabase();
  const logs = captureLogs('info');
  const logger = logs.logger;
  const config = loadConfig({
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SEED_DEMO: 'false',
    CURSOR_SECRET: 'test-cursor-secret',
    DB_POOL_MIN: '1',
    DB_POOL_MAX: '5',
    RATE_LIMIT_ENABLED: 'false',
    DB_ADAPTIVE_LIMIT: 'false',
    ...options.env,
  });
  const cleanup: (() => Promise<void> | void)[] = [() => database.drop()];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  };
  try {
    const profiler = createQueryProfiler({ settings: config.profiler, logger });
    const { adaptive: _adaptive, adaptiveMin: _adaptiveMin, ...poolSettings } = config.pool;
    const pool = createPool({
      ...poolSettings,
      connectionString: database.url,
      statementTimeoutMs: config.database.statementTimeoutMs,
      preparedStatements: config.database.preparedStatements,
      logger,
      onQuery: profiler.onQuery,
    });
    await pool.start();
    cleanup.push(() => pool.end(1000));
    profiler.attachDatabase(pool);
    cleanup.push(() => profiler.close());
    const cache = createQueryCache(config.cache, { logger, redis: config.redis });
    cleanup.push(() => cache.close());
    const stores = {
      products: cachedProductStore(createProductStore(pool), cache, config.cache.ttl),
      customers: createCustomerStore(pool),
      orders: invalidatingOrderStore(createOrderStore(pool), cache),
      reports: cachedReportStore(createReportStore(pool), cache, config.cache.ttl),
    };
    const pressure = createPressureMonitor(config.pressure, { logger });
    pressure.start();
    cleanup.push(() => pressure.stop());
    const rateLimiter = createRateLimiter(config, { logger });
    cleanup.push(() => rateLimiter.close());
    const metrics = createMetricsRegistry({
      pool,
      extra: [...pressureMetrics(pressure), ...rateLimitMetrics(rateLimiter.stats), ...profilerMetrics(profiler), ...cacheMetrics(cache)],
    });
    const server = await buildServer({ config, pool, logger, lifecycle: createLifecycle(), pressure, rateLimiter, metrics, profiler, stores });
    await server.register(dashboardRoutes({ config, pool, pressure, rateLimiter, cache, profiler, metrics, ...options.dashboard }));
    await server.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => server.close());
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    let closing: Promise<void> | undefined;
    return {
      baseUrl: `http://127.0.0.1:${port}`,
      config,
      server,
      pool,
      pressure,
      profiler,
      cache,
      metrics,
      logs,
      close: () => (closing ??= unwind()),
    };
  } catch (err) {
    await unwind();
    throw err;
  }
}
