/**
 * A real Holdfast HTTP server for tests: its own migrated database, a small
 * pool, listening on 127.0.0.1 on a free port, so suites exercise the same
 * sockets, parsers and pool a client would.
 *
 * Pools are small (min 1, max 5) because the test server allows 100
 * connections and test files run in parallel.
 */
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createPool, type ConnectionPool, type PoolOptions, type QueryEvent } from '../../src/db/pool/pool.ts';
import { buildServer } from '../../src/http/server.ts';
import { createLifecycle, type Lifecycle } from '../../src/lifecycle/lifecycle.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { captureLogs, type CapturedLogs } from './logs.ts';

export interface TestApp {
  /** e.g. http://127.0.0.1:41234 */
  baseUrl: string;
  pool: ConnectionPool;
  database: TestDatabase;
  config: Config;
  server: FastifyInstance;
  lifecycle: Lifecycle;
  /** The server's log lines (level info and up). */
  logs: CapturedLogs;
  /** Statements the pool has run so far (BEGIN/COMMIT included). */
  queryCount(): number;
  /** Every statement's text so far, in order. */
  statements(): string[];
  /** Stops the server, ends the pool and drops the database. Idempotent. */
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables on top of the test defaults, e.g. `{ BODY_LIMIT_BYTES: '1024' }`. */
  env?: Record<string, string>;
  pool?: Partial<PoolOptions>;
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
  const onQuery = (event: QueryEvent) => {
    seen.push(event.statement.text);
    options.pool?.onQuery?.(event);
  };
  const config = loadConfig({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'info',
    SEED_DEMO: 'false',
    CURSOR_SECRET: 'test-cursor-secret',
    DB_POOL_MIN: '1',
    DB_POOL_MAX: '5',
    ...options.env,
  });
  const pool = createPool({
    ...testPoolOptions(database.url, { min: config.pool.min, max: config.pool.max }),
    ...options.pool,
    onQuery,
  });
  const lifecycle = createLifecycle();
  let server: FastifyInstance | undefined;
  try {
    await pool.start();
    server = await buildServer({ config, pool, logger: logs.logger, lifecycle });
    await server.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    await server?.close();
    await pool.end(0);
    await database.drop();
    throw err;
  }
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('server is not listening on a TCP port');
  const running = server;
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://127.0.0.1:${address.port}`,
    pool,
    database,
    config,
    server: running,
    lifecycle,
    logs,
    queryCount: () => seen.length,
    statements: () => [...seen],
    close: () =>
      (closing ??= (async () => {
        await running.close();
        await pool.end(0);
        await database.drop();
      })()),
  };
}
