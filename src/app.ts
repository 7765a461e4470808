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
import type { Registry } from 'prom-client';
import { DeadlineError, withDeadline } from './async/deadline.ts';
import type { Config } from './config/index.ts';
import { DEMO_SEED, NO_SEED, databaseSource, prepareDatabase } from './db/bootstrap.ts';
import { cachedProductStore, cachedReportStore, invalidatingOrderStore } from './cache/cached-stores.ts';
import { cacheMetrics } from './cache/metrics.ts';
import { createQueryCache, type QueryCache } from './cache/query-cache.ts';
import { batchMetrics } from './store/batch/metrics.ts';
import { createVegasLimit } from './db/pool/adaptive-limit.ts';
import { createPool, type ConnectionPool, type QueryEvent } from './db/pool/pool.ts';
import { createCodel } from './db/pool/codel.ts';
import type { OverloadControl } from './db/pool/core.ts';
import { createRetryBudget, type RetryBudget } from './db/pool/retry-budget.ts';
import { overloadMetrics } from './metrics/overload-metrics.ts';
import { createHostsFromUrl, type HostSelector } from './db/hosts/selector.ts';
import { createConsistencyTokens } from './db/replicas/consistency-token.ts';
import { createReplicaSet, type ReplicaSet } from './db/replicas/replica-set.ts';
import { createCursorCodec } from './http/cursor.ts';
import { backgroundContext } from './context/context.ts';
import { READ } from './db/types.ts';
import { createPressureMonitor, type PressureMonitor } from './guards/pressure/monitor.ts';
import { pressureMetrics } from './guards/pressure/metrics.ts';
import { createRateLimiter } from './guards/rate-limit/index.ts';
import { rateLimitMetrics } from './guards/rate-limit/metrics.ts';
import { buildServer } from './http/server.ts';
import { createLifecycle, type Lifecycle } from './lifecycle/lifecycle.ts';
import type { Logger } from './log/logger.ts';
import { createMetricsRegistry } from './metrics/registry.ts';
import { dbHostMetrics } from './metrics/db-host-metrics.ts';
import { profilerMetrics } from './profiler/metrics.ts';
import { createQueryProfiler, type QueryProfiler } from './profiler/profiler.ts';
import { dashboardRoutes } from './dashboard/index.ts';
import { unprofiled } from './profiler/unprofiled.ts';
import { createCustomerStore } from './store/customers.ts';
import { createIdempotencyStore } from './store/idempotency.ts';
import { startIdempotencyPurge } from './store/idempotency-purge.ts';
import { createOrderStore } from './store/orders.ts';
import { createProductStore } from './store/products.ts';
import { checkProductSearchIndex } from './store/search-index.ts';
import { createReportStore } from './store/reports.ts';
import { cacheSpans } from './telemetry/cache-spans.ts';
import { dbSpans, poolLabels } from './telemetry/db-spans.ts';
import { redisSpans } from './telemetry/redis-spans.ts';
import { startTracing, type Tracing } from './telemetry/tracer.ts';
import { startMetrics } from './telemetry/meter.ts';
import { createPoolMeter, PRIMARY_POOL_NAME, type PoolMeter } from './telemetry/pool-meter.ts';

export interface Holdfast {
  server: FastifyInstance;
  pool: ConnectionPool;
  lifecycle: Lifecycle;
  pressure: PressureMonitor;
  profiler: QueryProfiler;
  /** The query cache the stores read through (decorated, when `decorateCache` is given). */
  cache: QueryCache;
  /** The Prometheus registry `/metrics` serves. */
  metrics: Registry;
  /** The tracer, when an OTLP endpoint is configured (docs/OBSERVABILITY.md); undefined: tracing off. */
  tracing: Tracing | undefined;
  /** Base URL the server listens on, e.g. http://127.0.0.1:5001. */
  url: string;
  /** Graceful stop: readiness off, drain requests, end the pool, stop embedded Postgres. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Also told of every statement the pool runs (tests count queries with it). */
  onQuery?: (event: QueryEvent) => void;
  /**
   * `config.database.url` is already migrated and seeded (a cluster worker:
   * the primary did it once before forking), so start-up skips both.
   */
  databasePrepared?: boolean;
  /** Registry to fill instead of a new one (a cluster worker's, whose exposition is the cluster's). */
  metricsRegistry?: Registry;
  /** Wraps the query cache before the stores use it (a cluster worker relays invalidations to the others). */
  decorateCache?: (cache: QueryCache) => QueryCache;
}

export async function startHoldfast(config: Config, logger: Logger, options: StartOptions = {}): Promise<Holdfast> {
  const cleanup: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const step of cleanup.splice(0).reverse()) await step().catch((err: unknown) => logger.error({ err }, 'cleanup step failed'));
  };
  try {
    const databaseUrl =
      options.databasePrepared === true && config.database.url !== undefined
        ? config.database.url
        : await prepareConfiguredDatabase(config, logger, cleanup);

    const profiler = createQueryProfiler({ settings: config.profiler, logger: logger.child({ component: 'profiler' }) });
    const tracing = startTracing(config.telemetry);
    if (tracing !== undefined) cleanup.push(() => tracing.shutdown());
    // The pools under OpenTelemetry's db.client.connection.* names, when OTEL_METRICS_EXPORTER=otlp.
    const metering = startMetrics(config.telemetry);
    if (metering !== undefined) cleanup.push(() => metering.shutdown());
    const poolMeter = metering === undefined ? undefined : createPoolMeter(metering.meter);
    const { adaptive, adaptiveMin, ...poolSettings } = config.pool;
    const { overload, retryBudget } = overloadControl(config);
    const hosts = createHostsFromUrl(databaseUrl, logger.child({ component: 'hosts' }));
    if (hosts !== undefined) cleanup.push(async () => hosts.stop());
    // The primary's host on its spans only when fixed: with several, the selected one changes at failover.
    const primaryLabels = poolLabels(PRIMARY_POOL_NAME, hosts === undefined ? databaseUrl : undefined, 'primary');
    const spans = tracing === undefined ? undefined : dbSpans(tracing, { comments: config.telemetry.sqlComments, primary: primaryLabels });
    const everyQuery = composeOnQuery(profiler.onQuery, spans?.onQuery, options.onQuery);
    // A replica pool's statements: the same hooks, its spans labelled with the replica.
    const replicaQuery = (name: string, url: string) =>
      composeOnQuery(profiler.onQuery, spans?.onQueryOf(poolLabels(name, url, 'replica')), options.onQuery);
    const pool = createPool({
      hosts,
      ...poolSettings,
      connectionString: databaseUrl,
      statementTimeoutMs: config.database.statementTimeoutMs,
      preparedStatements: config.database.preparedStatements,
      hostProbe: config.database.hostProbe,
      logger: logger.child({ component: 'pool' }),
      // Start low and let the limiter find the level; max stays the hard cap.
      limiter: adaptive
        ? createVegasLimit({ initial: Math.min(poolSettings.max, 10), min: adaptiveMin, max: poolSettings.max })
        : undefined,
      overload,
      retryBudget,
      onQuery: everyQuery,
      observer: poolMeter?.observer(PRIMARY_POOL_NAME),
    });
    poolMeter?.watch(PRIMARY_POOL_NAME, pool.counters);
    await pool.start();
    cleanup.push(() => pool.end(config.server.shutdownTimeoutMs));
    if (config.database.statementTimeoutMs > 0) await warnIfStatementTimeoutLost(pool, config.database.statementTimeoutMs, logger);
    await checkProductSearchIndex(pool, logger);
    const purge = startIdempotencyPurge({
      db: pool,
      ttlSeconds: config.idempotencyTtlSeconds,
      logger: logger.child({ component: 'idempotency' }),
    });
    cleanup.push(async () => purge.stop());
    profiler.attachDatabase(pool); // plans are EXPLAINed through the pool, off the request path
    cleanup.push(async () => profiler.close());

    // The cache's and the rate limiter's Redis commands, as spans of sampled requests.
    const redisCommands = tracing !== undefined && config.redis.url !== undefined ? redisSpans(tracing, config.redis.url) : undefined;
    const localCache = createQueryCache(config.cache, {
      logger: logger.child({ component: 'cache' }),
      redis: config.redis,
      redisSpans: redisCommands,
    });
    cleanup.push(() => localCache.close());
    const cache = options.decorateCache?.(localCache) ?? localCache;
    const batchReporters: ReturnType<typeof batchMetrics> = [];
    const productBatching = config.database.batchReads.enabled
      ? {
          maxBatch: config.database.batchReads.max,
          onLoader: (loader: Parameters<typeof batchMetrics>[1]) => batchReporters.push(...batchMetrics('product', loader)),
        }
      : undefined;
    const replicas = await startReplicas(config, pool, replicaQuery, logger, cleanup, poolMeter, hosts);
    // Reads to a replica in rotation, writes and transactions to the primary; no replicas: the pool itself.
    const routed = replicas?.db ?? pool;
    // With tracing on, the stores see the pool through transaction and failed-acquire spans.
    const db = spans?.database(routed) ?? routed;
    const lookups = tracing === undefined ? undefined : cacheSpans(tracing, cache);
    const stores = {
      products: cachedProductStore(createProductStore(db, { batching: productBatching }), cache, config.cache.ttl, lookups),
      customers: createCustomerStore(db),
      orders: invalidatingOrderStore(createOrderStore(db, createIdempotencyStore({ ttlSeconds: config.idempotencyTtlSeconds })), cache),
      reports: cachedReportStore(createReportStore(db), cache, config.cache.ttl, lookups),
    };

    const pressure = createPressureMonitor(config.pressure, { logger: logger.child({ component: 'pressure' }) });
    pressure.start();
    cleanup.push(async () => pressure.stop());
    const rateLimiter = createRateLimiter(config, { logger: logger.child({ component: 'rate-limit' }), redisSpans: redisCommands });
    cleanup.push(() => rateLimiter.close());
    const metrics = createMetricsRegistry({
      registry: options.metricsRegistry,
      pool,
      extra: [
        ...pressureMetrics(pressure),
        ...rateLimitMetrics(rateLimiter.stats),
        ...profilerMetrics(profiler),
        ...cacheMetrics(cache),
        ...overloadMetrics(pool.counters, { codel: overload.codel, targetMs: config.overload.codel.targetMs, retryBudget }),
        ...batchReporters,
        ...(replicas?.metrics() ?? []),
        ...(hosts === undefined ? [] : dbHostMetrics(hosts, pool.counters)),
      ],
    });

    const lifecycle = createLifecycle();
    const consistency =
      replicas === undefined
        ? undefined
        : {
            tokens: createConsistencyTokens(createCursorCodec(config.cursorSecret)),
            currentLsn: replicas.currentLsn,
            replicas: replicas.states,
          };
    const server = await buildServer({
      config,
      pool,
      logger,
      lifecycle,
      pressure,
      rateLimiter,
      metrics,
      profiler,
      stores,
      tracing,
      consistency,
    });
    // Outside /api: never rate limited (but for failed authentication) or shed. Registers nothing without ADMIN_TOKEN.
    await server.register(
      dashboardRoutes({
        config,
        pool,
        pressure,
        rateLimiter,
        authFailures: rateLimiter.authFailures,
        cache,
        profiler,
        metrics,
        maxStreams: config.dashboard.maxStreams,
        intervalMs: config.dashboard.intervalMs,
      }),
    );
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
    return { server, pool, lifecycle, pressure, profiler, cache, metrics, tracing, url, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}

/**
 * The pool's queue discipline from config (docs/OVERLOAD.md): CoDel unless
 * POOL_CODEL_ENABLED is off, the high reserve, and the retry budget.
 */
function overloadControl(config: Config): { overload: OverloadControl; retryBudget: RetryBudget } {
  const { codel, highReserve, retryBudget } = config.overload;
  return {
    overload: {
      codel: codel.enabled ? createCodel({ targetMs: codel.targetMs, intervalMs: codel.intervalMs }) : undefined,
      highReserveShare: highReserve,
    },
    retryBudget: createRetryBudget({ ratio: retryBudget.ratio, windowMs: retryBudget.windowMs }),
  };
}

/**
 * The read replicas of DATABASE_REPLICA_URLS, started, with their stop in
 * `cleanup`, and their pools on `poolMeter` when metrics are on; undefined
 * when none are configured (every statement then goes to `primary`, as before).
 */
async function startReplicas(
  config: Config,
  primary: ConnectionPool,
  onQueryOf: (name: string, url: string) => (event: QueryEvent) => void,
  logger: Logger,
  cleanup: (() => Promise<void>)[],
  poolMeter: PoolMeter | undefined,
  hosts: HostSelector | undefined,
): Promise<ReplicaSet | undefined> {
  const settings = config.database.replicas;
  if (settings.urls.length === 0) return undefined;
  const { adaptive: _adaptive, adaptiveMin: _adaptiveMin, ...poolSettings } = config.pool;
  const replicas = createReplicaSet({
    urls: settings.urls,
    primary,
    pool: {
      ...poolSettings,
      max: settings.poolMax,
      statementTimeoutMs: config.database.statementTimeoutMs,
      preparedStatements: config.database.preparedStatements,
      hostProbe: config.database.hostProbe,
      logger: logger.child({ component: 'replica-pool' }),
    },
    onQueryOf,
    maxLagMs: settings.maxLagMs,
    sampleMs: settings.sampleMs,
    tokenWaitMs: settings.tokenWaitMs,
    // During a failover (no host selected) replicas are not judged against a primary that is gone.
    primaryDown: hosts === undefined ? undefined : () => hosts.current() === undefined,
    logger: logger.child({ component: 'replicas' }),
    // Each replica's pool under its own name (its host:port).
    observerFor: poolMeter === undefined ? undefined : (name) => poolMeter.observer(name),
  });
  for (const { name, pool } of replicas.pools) poolMeter?.watch(name, pool.counters);
  cleanup.push(() => replicas.stop(config.server.shutdownTimeoutMs));
  await replicas.start();
  return replicas;
}

/** The profiler's hook and those told of every statement after it, as one (the profiler's alone when there are none). */
function composeOnQuery(
  profiler: (event: QueryEvent) => void,
  ...hooks: (((event: QueryEvent) => void) | undefined)[]
): (event: QueryEvent) => void {
  const present = [profiler, ...hooks.filter((hook) => hook !== undefined)];
  if (present.length === 1) return profiler;
  return (event) => {
    for (const hook of present) hook(event);
  };
}

/**
 * The configured database, ready for the pools: migrated, and seeded with
 * demo data when SEED_DEMO is on and it is empty. An embedded server started
 * here is stopped by `cleanup`. Returns its URL, which may carry a password:
 * never log it.
 *
 * @example
 * const cleanup: (() => Promise<void>)[] = [];
 * const url = await prepareConfiguredDatabase(config, logger, cleanup); // once, in a cluster's primary
 */
export async function prepareConfiguredDatabase(config: Config, logger: Logger, cleanup: (() => Promise<void>)[]): Promise<string> {
  const db = await prepareDatabase({ source: databaseSource(config.database), seed: config.seedDemo ? DEMO_SEED : NO_SEED, logger });
  cleanup.push(db.stop);
  return db.url;
}

/**
 * Warns when the server does not apply DB_STATEMENT_TIMEOUT_MS. The pool
 * sends it as a startup parameter, which PgBouncer refuses, or drops without
 * a word when `ignore_startup_parameters` lists it: runaway queries would
 * then run unbounded while the config says otherwise. See docs/SCALING.md.
 */
async function warnIfStatementTimeoutLost(pool: ConnectionPool, configuredMs: number, logger: Logger): Promise<void> {
  try {
    const { rows } = await pool.query<{ ms: number }>(
      backgroundContext('statement timeout check'),
      unprofiled({ text: "SELECT setting::int AS ms FROM pg_settings WHERE name = 'statement_timeout'" }),
      READ,
    );
    const serverMs = rows[0]?.ms;
    if (serverMs === configuredMs) return;
    logger.warn(
      { configuredMs, serverMs },
      `DB_STATEMENT_TIMEOUT_MS=${configuredMs} is not in effect: the server applies statement_timeout ${serverMs} ms. ` +
        `Behind PgBouncer the startup parameter is dropped; set it on the role instead (ALTER ROLE … SET statement_timeout = '${configuredMs}ms')`,
    );
  } catch (err) {
    logger.warn({ err }, 'could not read the server’s statement_timeout');
  }
}

/**
 * Stops accepting connections and waits for in-flight requests, up to the
 * shutdown timeout; then cuts whatever is left so the process can exit.
 */
export async function closeServer(server: FastifyInstance, timeoutMs: number, logger: Logger): Promise<void> {
  try {
    await withDeadline(server.close(), timeoutMs, 'closing the server');
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    logger.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
    server.server.closeAllConnections();
  }
}
