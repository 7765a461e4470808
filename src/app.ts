/**
 * The composition root: the one place that builds every part of Holdfast
 * from the config and wires them together, in start order, and takes them
 * apart again in reverse.
 *
 * @example
 * const app = await startHoldfast(loadConfig(readEnvironment()), createLogger('info'));
 * // … later, on SIGTERM:
 * await app.stop();
 */
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import type { Config } from './config/index.ts';
import { startEmbeddedPostgres, type RunningPostgres } from './db/embedded.ts';
import { runMigrations } from './db/migrate.ts';
import { cachedProductStore, cachedReportStore, invalidatingOrderStore } from './cache/cached-stores.ts';
import { cacheMetrics } from './cache/metrics.ts';
import { createQueryCache } from './cache/query-cache.ts';
import { createVegasLimit } from './db/pool/adaptive-limit.ts';
import { createPool, type ConnectionPool, type QueryEvent } from './db/pool/pool.ts';
import { seedDemoIfEmpty } from './db/seed.ts';
import { createPressureMonitor, type PressureMonitor } from './guards/pressure/monitor.ts';
import { pressureMetrics } from './guards/pressure/metrics.ts';
import { createRateLimiter } from './guards/rate-limit/index.ts';
import { rateLimitMetrics } from './guards/rate-limit/metrics.ts';
import { buildServer } from './http/server.ts';
import { createLifecycle, type Lifecycle } from './lifecycle/lifecycle.ts';
import type { Logger } from './log/logger.ts';
import { createMetricsRegistry } from './metrics/registry.ts';
import { profilerMetrics } from './profiler/metrics.ts';
import { createQueryProfiler, type QueryProfiler } from './profiler/profiler.ts';
import { createCustomerStore } from './store/customers.ts';
import { createOrderStore } from './store/orders.ts';
import { createProductStore } from './store/products.ts';
import { createReportStore } from './store/reports.ts';

export interface Holdfast {
  server: FastifyInstance;
  pool: ConnectionPool;
  lifecycle: Lifecycle;
  pressure: PressureMonitor;
  profiler: QueryProfiler;
  /** Base URL the server listens on, e.g. http://127.0.0.1:5001. */
  url: string;
  /** Graceful stop: readiness off, drain requests, end the pool, stop embedded Postgres. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Also told of every statement the pool runs (tests count queries with it). */
  onQuery?: (event: QueryEvent) => void;
}

export async function startHoldfast(config: Config, logger: Logger, options: StartOptions = {}): Promise<Holdfast> {
  const cleanup: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch((err: unknown) => logger.error({ err }, 'cleanup step failed'));
  };
  try {
    const databaseUrl = await resolveDatabase(config, logger, cleanup);
    await runMigrations(databaseUrl, logger);
    if (config.seedDemo) await withClient(databaseUrl, (client) => seedDemoIfEmpty(client, logger));

    const profiler = createQueryProfiler({ settings: config.profiler, logger: logger.child({ component: 'profiler' }) });
    const onQuery = options.onQuery;
    const { adaptive, adaptiveMin, ...poolSettings } = config.pool;
    const pool = createPool({
      ...poolSettings,
      connectionString: databaseUrl,
      statementTimeoutMs: config.database.statementTimeoutMs,
      preparedStatements: config.database.preparedStatements,
      logger: logger.child({ component: 'pool' }),
      // Start low and let the limiter find the level; max stays the hard cap.
      limiter: adaptive ? createVegasLimit({ initial: Math.min(poolSettings.max, 10), min: adaptiveMin, max: poolSettings.max }) : undefined,
      onQuery:
        onQuery === undefined
          ? profiler.onQuery
          : (event) => {
              profiler.onQuery(event);
              onQuery(event);
            },
    });
    await pool.start();
    cleanup.push(() => pool.end(config.server.shutdownTimeoutMs));
    profiler.attachDatabase(pool); // plans are EXPLAINed through the pool, off the request path
    cleanup.push(async () => profiler.close());

    const cache = createQueryCache(config.cache, { logger: logger.child({ component: 'cache' }), redis: config.redis });
    cleanup.push(() => cache.close());
    const stores = {
      products: cachedProductStore(createProductStore(pool), cache, config.cache.ttl),
      customers: createCustomerStore(pool),
      orders: invalidatingOrderStore(createOrderStore(pool), cache),
      reports: cachedReportStore(createReportStore(pool), cache, config.cache.ttl),
    };

    const pressure = createPressureMonitor(config.pressure, { logger: logger.child({ component: 'pressure' }) });
    pressure.start();
    cleanup.push(async () => pressure.stop());
    const rateLimiter = createRateLimiter(config, { logger: logger.child({ component: 'rate-limit' }) });
    cleanup.push(() => rateLimiter.close());
    const metrics = createMetricsRegistry({
      pool,
      extra: [...pressureMetrics(pressure), ...rateLimitMetrics(rateLimiter.stats), ...profilerMetrics(profiler), ...cacheMetrics(cache)],
    });

    const lifecycle = createLifecycle();
    const server = await buildServer({ config, pool, logger, lifecycle, pressure, rateLimiter, metrics, profiler, stores });
    await server.listen({ host: config.server.host, port: config.server.port });
    const address = server.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : config.server.port;
    const url = `http://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${port}`;
    logger.info({ url }, 'holdfast listening');

    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        lifecycle.beginShutdown();
        await closeServer(server, config.server.shutdownTimeoutMs, logger);
        await unwind();
        logger.info('holdfast stopped');
      })());
    return { server, pool, lifecycle, pressure, profiler, url, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/** The configured server, or an embedded one started (and later stopped) here. */
async function resolveDatabase(config: Config, logger: Logger, cleanup: (() => Promise<void>)[]): Promise<string> {
  if (config.database.url !== undefined) return config.database.url;
  const embedded: RunningPostgres = await startEmbeddedPostgres({
    dataDir: config.database.dataDir,
    port: config.database.embeddedPort,
    logger,
  });
  cleanup.push(() => embedded.stop());
  return embedded.url;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // surfaced through the awaited query instead
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Stops accepting connections and waits for in-flight requests, up to the
 * shutdown timeout; then cuts whatever is left so the process can exit.
 */
async function closeServer(server: FastifyInstance, timeoutMs: number, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([server.close().then(() => 'closed' as const), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
    server.server.closeAllConnections();
  }
}
