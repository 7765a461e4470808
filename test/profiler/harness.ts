/**
 * A profiled pool on a private database, and a small real Fastify server
 * over it, for the profiler's tests.
 *
 * Every pool event is also kept in `events` (EXPLAINs included, which the
 * profiler itself skips), so tests can see what actually reached Postgres.
 * Pools are small (max 3): the test server allows 100 connections and test
 * files run in parallel.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ProfilerSettings } from '../../src/config/index.ts';
import { createPool, type ConnectionPool, type QueryEvent } from '../../src/db/pool/pool.ts';
import { adminQueriesRoutes } from '../../src/profiler/admin-route.ts';
import { createQueryProfiler, type QueryProfiler } from '../../src/profiler/profiler.ts';
import { queryProfilerPlugin } from '../../src/profiler/request-plugin.ts';
import { testPoolOptions } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts';
import { lenientAuthFailures } from '../helpers/auth-failures.ts';

export const DEFAULT_SETTINGS: ProfilerSettings = Object.freeze({
  slowQueryMs: 100,
  nPlusOneThreshold: 5,
  maxFingerprints: 500,
  explainIntervalS: 60,
});

export interface ProfiledPool {
  pool: ConnectionPool;
  profiler: QueryProfiler;
  database: TestDatabase;
  logs: CapturedLogs;
  /** Every statement the pool ran, in order, profiled or not. */
  events: QueryEvent[];
  close(): Promise<void>;
}

/**
 * @example
 * const h = await startProfiledPool({ slowQueryMs: 20 });
 * afterAll(() => h.close());
 */
export async function startProfiledPool(settings: Partial<ProfilerSettings> = {}): Promise<ProfiledPool> {
  const database = await createTestDatabase();
  const logs = captureLogs('info');
  const profiler = createQueryProfiler({ settings: { ...DEFAULT_SETTINGS, ...settings }, logger: logs.logger });
  const events: QueryEvent[] = [];
  const pool = createPool(
    testPoolOptions(database.url, {
      min: 1,
      max: 3,
      onQuery: (event) => {
        events.push(event);
        profiler.onQuery(event);
      },
    }),
  );
  await pool.start();
  profiler.attachDatabase(pool);
  let closing: Promise<void> | undefined;
  return {
    pool,
    profiler,
    database,
    logs,
    events,
    close: () =>
      (closing ??= (async () => {
        profiler.close();
        await profiler.settled();
        await pool.end(0);
        await database.drop();
      })()),
  };
}

export interface ProfiledServer extends ProfiledPool {
  app: FastifyInstance;
  baseUrl: string;
}

/**
 * A listening server: the profiler plugin first in an `/api` scope, then
 * the routes `routes` adds there; /admin/queries at the root.
 *
 * @example
 * const s = await startProfiledServer({}, async (api, { pool }) => { api.get('/one', () => pool.query({ text: 'select 1' })); });
 */
export async function startProfiledServer(
  settings: Partial<ProfilerSettings>,
  routes: (api: FastifyInstance, h: ProfiledPool) => Promise<void> | void,
  options: { adminToken?: string } = {},
): Promise<ProfiledServer> {
  const h = await startProfiledPool(settings);
  const app = Fastify();
  try {
    await app.register(
      async function api(scope) {
        await scope.register(queryProfilerPlugin(h.profiler));
        await routes(scope, h);
      },
      { prefix: '/api' },
    );
    await app.register(
      adminQueriesRoutes({ profiler: h.profiler, db: h.pool, adminToken: options.adminToken, authFailures: lenientAuthFailures() }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (err) {
    await app.close();
    await h.close();
    throw err;
  }
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
  const closePool = h.close;
  let closing: Promise<void> | undefined;
  return {
    ...h,
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    close: () =>
      (closing ??= (async () => {
        await app.close();
        await closePool();
      })()),
  };
}

/**
 * Parses `db;dur=12.3;desc="4 queries", db-wait;dur=0.1`.
 *
 * @example
 * parseServerTiming(res.headers.get('server-timing')); // { queries: 4, dbMs: 12.3, waitMs: 0.1 }
 */
export function parseServerTiming(header: string | null): { queries: number; dbMs: number; waitMs: number } {
  const match = /db;dur=([\d.]+);desc="(\d+) quer(?:y|ies)", db-wait;dur=([\d.]+)/.exec(header ?? '');
  if (match === null) throw new Error(`unexpected Server-Timing: ${header}`);
  return { dbMs: Number(match[1]), queries: Number(match[2]), waitMs: Number(match[3]) };
}
