/**
 * A real Holdfast for tests: its own migrated database, a small pool, every
 * guard, listening on 127.0.0.1 on a free port, so suites exercise the same
 * composition, sockets, parsers and pool a client would.
 *
 * Pools are small (min 1, max 5) because the test server allows 100
 * connections and test files run in parallel.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { startHoldfast, type Holdfast } from '../../src/app.ts';
import type { QueryCache } from '../../src/cache/query-cache.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createPool, type ConnectionPool, type PoolOptions, type QueryEvent } from '../../src/db/pool/pool.ts';
import type { PressureMonitor } from '../../src/guards/pressure/monitor.ts';
import type { Lifecycle } from '../../src/lifecycle/lifecycle.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { captureLogs, type CapturedLogs } from './logs.ts';
import { assertNoNPlusOne } from './n-plus-one.ts';
import { BUSY_MACHINE_PRESSURE } from './pressure-env.ts';
import type { QueryProfiler } from '../../src/profiler/profiler.ts';

export interface TestApp {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  pool: ConnectionPool;
  database: TestDatabase;
  config: Config;
  server: FastifyInstance;
  lifecycle: Lifecycle;
  profiler: QueryProfiler;
  pressure: PressureMonitor;
  cache: QueryCache;
  /** The registry `/metrics` serves. */
  metrics: Registry;
  /** The tracer, when the env configured one (OTEL_EXPORTER_OTLP_*). */
  tracing: Holdfast['tracing'];
  /** The server's log lines (level info and up). */
  logs: CapturedLogs;
  /** Statements the pool has run so far (BEGIN/COMMIT included). */
  queryCount(): number;
  /** Every statement's text so far, in order. */
  statements(): string[];
  /**
   * Stops the server, ends the pool and drops the database. Idempotent.
   * Rejects if any request ran an N+1 query pattern: under test, an N+1
   * fails the suite that caused it, naming the route and the statement.
   */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables on top of the test defaults, e.g. `{ BODY_LIMIT_BYTES: '1024' }`. */
  env?: Record<string, string>;
}

/**
 * Pool options for a test: small, quick to time out, silent.
 *
 * @example
 * const pool = createPool(testPoolOptions(db.url, { max: 2 }));
 */
export function testPoolOptions(connectionString: string, overrides: Partial<PoolOptions> = {}): PoolOptions {
  return {
    connectionString,
    statementTimeoutMs: 10_000,
    logger: createLogger('silent'),
    min: 1,
    max: 5,
    acquireTimeoutMs: 10_000,
    recycleMs: 3_600_000,
    idleTimeoutMs: 300_000,
    queueMax: 1000,
    getMode: 'wait',
    leakMs: 0,
    validateAfterIdleMs: 5000,
    ...overrides,
  };
}

/**
 * A started pool on a fresh database, for repository tests.
 *
 * @example
 * const { pool, close } = await startTestPool();
 * afterAll(close);
 */
export async function startTestPool(
  overrides: Partial<PoolOptions> = {},
): Promise<{ pool: ConnectionPool; database: TestDatabase; close(): Promise<void> }> {
  const database = await createTestDatabase();
  const pool = createPool(testPoolOptions(database.url, overrides));
  try {
    await pool.start();
  } catch (err) {
    await database.drop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    pool,
    database,
    close: () => (closing ??= pool.end(0).then(() => database.drop())),
  };
}

/**
 * Starts the whole service through the composition root (src/app.ts), as
 * `npm start` does, on a fresh database and a free port.
 *
 * @example
 * let app: TestApp;
 * beforeAll(async () => { app = await startTestApp(); });
 * afterAll(() => app.close());
 * const res = await fetch(`${app.baseUrl}/api/health`);
 */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const logs = captureLogs('info');
  const seen: string[] = [];
  const config = loadConfig({
    DATABASE_URL: database.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SEED_DEMO: 'false',
    CURSOR_SECRET: 'test-cursor-secret',
    DB_POOL_MIN: '1',
    DB_POOL_MAX: '5',
    // Suites send far more than a client would; the rate-limit suites set their own.
    RATE_LIMIT_ENABLED: 'false',
    ADMIN_AUTH_FAILURES_PER_MINUTE: '10000',
    // A fixed pool size keeps pool assertions exact; the limiter has its own suite.
    DB_ADAPTIVE_LIMIT: 'false',
    // Likewise no CoDel and no high reserve: suites hold every connection with the
    // (low) test context and queue requests behind locks; test/http/overload.test.ts
    // turns them on.
    POOL_CODEL_ENABLED: 'false',
    POOL_HIGH_RESERVE: '0',
    ...BUSY_MACHINE_PRESSURE,
    ...options.env,
  });
  let app: Holdfast;
  try {
    app = await startHoldfast(config, logs.logger, { onQuery: (event: QueryEvent) => void seen.push(event.statement.text) });
  } catch (err) {
    await database.drop();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    baseUrl: app.url,
    pool: app.pool,
    database,
    config,
    server: app.server,
    lifecycle: app.lifecycle,
    profiler: app.profiler,
    pressure: app.pressure,
    cache: app.cache,
    metrics: app.metrics,
    tracing: app.tracing,
    logs,
    queryCount: () => seen.length,
    statements: () => [...seen],
    close: () =>
      (closing ??= (async () => {
        await app.stop();
        await database.drop();
        assertNoNPlusOne(app.profiler, 0);
      })()),
  };
}
