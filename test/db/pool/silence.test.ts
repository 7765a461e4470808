/**
 * The pool against a silent database: a freeze proxy between the pool and a
 * real Postgres stops forwarding without closing anything. Timeouts are
 * short so the suite stays fast; bounds are generous multiples of them.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { TEST } from '../../helpers/context.ts';
import { startFreezeProxy, type FreezeProxy } from '../../helpers/freeze-proxy.ts';

const STATEMENT_TIMEOUT_MS = 300;
const ACQUIRE_TIMEOUT_MS = 1000;
/** statement_timeout + margin + the pool timeout, doubled for a loaded machine. */
const BOUND_MS = 2 * (STATEMENT_TIMEOUT_MS + 1000 + ACQUIRE_TIMEOUT_MS);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ pool: ConnectionPool; proxy: FreezeProxy; url: string; app: string }> {
  const db = await createTestDatabase({ migrate: false });
  cleanups.push(db.drop);
  const target = new URL(db.url);
  const proxy = await startFreezeProxy({ host: target.hostname, port: Number(target.port || 5432) });
  cleanups.push(proxy.close);
  const viaProxy = new URL(db.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const app = `silence-${Math.random().toString(36).slice(2)}`;
  const pool = createPool(
    testPoolOptions(viaProxy.toString(), {
      statementTimeoutMs: STATEMENT_TIMEOUT_MS,
      acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
      min: 4,
      max: 4,
      applicationName: app,
    }),
  );
  cleanups.push(() => pool.end(0));
  await pool.start();
  return { pool, proxy, url: db.url, app };
}

async function serverSide(url: string, app: string): Promise<number> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where application_name = $1', [app]);
    return Number(rows[0]!.n);
  } finally {
    await admin.end();
  }
}

async function timed<T>(work: Promise<T>): Promise<{ ms: number; result?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const result = await work;
    return { ms: performance.now() - started, result };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

describe('a silent database', () => {
  it('fails in-flight statements with DB_UNAVAILABLE, destroys their connections, and recovers on thaw', async () => {
    const { pool, proxy, url, app } = await setup();
    await pool.query(TEST, { text: 'select 1' });
    const destroyedBefore = pool.counters.destroyed;

    proxy.freeze();
    const outcomes = await Promise.all(Array.from({ length: 12 }, () => timed(pool.query(TEST, { text: 'select 1' }))));
    for (const o of outcomes) {
      expect(o.error, 'no statement may succeed while silent').toBeDefined();
      expect(isAppError(o.error, 'DB_UNAVAILABLE') || isAppError(o.error, 'POOL_TIMEOUT')).toBe(true);
      expect(o.ms).toBeLessThan(BOUND_MS);
    }
    expect(outcomes.some((o) => isAppError(o.error, 'DB_UNAVAILABLE'))).toBe(true);
    // The silent connections were destroyed, not given back.
    expect(pool.counters.destroyed).toBeGreaterThan(destroyedBefore);

    proxy.thaw();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = (await timed(pool.query(TEST, { text: 'select 1' }))).error === undefined;
      if (!ok) await new Promise((r) => setTimeout(r, 100));
    }
    expect(ok, 'queries succeed again after the thaw, without a restart').toBe(true);
    await Promise.all(Array.from({ length: 8 }, () => pool.query(TEST, { text: 'select 1' })));

    // No stuck connection: what the pool holds is what the server sees.
    let server = -1;
    for (let i = 0; i < 50; i++) {
      server = await serverSide(url, app);
      if (server === pool.size) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(server).toBe(pool.size);
  });

  it('validation of a silent idle connection fails fast and marks its idle siblings suspect', async () => {
    const { pool, proxy } = await setup();
    await Promise.all(Array.from({ length: 4 }, () => pool.query(TEST, { text: 'select 1' })));
    proxy.freeze();
    const lease = await timed(pool.acquire(TEST));
    // Idle connections are validated only when suspect or idle long; the statement's deadline catches this one.
    if (lease.result !== undefined) {
      const run = await timed(lease.result.query({ text: 'select 1' }));
      expect(isAppError(run.error, 'DB_UNAVAILABLE')).toBe(true);
      expect(run.ms).toBeLessThan(BOUND_MS);
      lease.result.release(run.error);
    }
    // The next acquire validates a suspect sibling, which is silent too.
    const before = pool.counters.validations;
    const next = await timed(pool.query(TEST, { text: 'select 1' }));
    expect(next.error).toBeDefined();
    expect(next.ms).toBeLessThan(BOUND_MS);
    expect(pool.counters.validations).toBeGreaterThan(before);
    proxy.thaw();
  });
});
