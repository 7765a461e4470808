/**
 * A pool whose connections reach a fresh test database through a freeze
 * proxy (freeze-proxy.ts), for the suites that make the database go silent,
 * and the two waits they assert with: a bounded poll and a timed outcome.
 *
 * @example
 * const { pool, proxy, close } = await poolBehindFreezeProxy({ statementTimeoutMs: 300, min: 1, max: 1 });
 * proxy.freeze();
 * const run = await timed(pool.query(TEST, { text: 'select 1' }));
 * await close();
 */
import type { PoolOptions } from '../../src/db/pool/pool.ts';
import { createPool, type ConnectionPool } from '../../src/db/pool/pool.ts';
import { testPoolOptions } from './app.ts';
import { createTestDatabase } from './database.ts';
import { startFreezeProxy, type FreezeProxy } from './freeze-proxy.ts';

export interface FrozenPool {
  pool: ConnectionPool;
  proxy: FreezeProxy;
  /** The database's own URL, around the proxy (for an admin connection). */
  url: string;
  /** The same database through the proxy. */
  proxiedUrl: string;
  /** The pool's application_name, unique to this pool. */
  app: string;
  /** Ends the pool, the proxy and the database. */
  close(): Promise<void>;
}

/** `direct`: the pool goes straight to the database (the proxy is still started, unused). */
export async function poolBehindFreezeProxy(overrides: Partial<PoolOptions> = {}, direct = false): Promise<FrozenPool> {
  const db = await createTestDatabase({ migrate: false });
  const target = new URL(db.url);
  const proxy = await startFreezeProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const proxied = new URL(db.url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const app = `silence-${Math.random().toString(36).slice(2)}`;
  const pool = createPool(testPoolOptions(direct ? db.url : proxied.toString(), { applicationName: app, ...overrides }));
  const close = async (): Promise<void> => {
    await pool.end(0);
    await proxy.close();
    await db.drop();
  };
  try {
    await pool.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { pool, proxy, url: db.url, proxiedUrl: proxied.toString(), app, close };
}

/** Polls `condition` every 20 ms for at most `ms` (a bound, not a sleep); true once it held. */
export async function eventually(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return condition();
}

/** How `work` settled, and after how long. */
export async function timed<T>(work: Promise<T>): Promise<{ ms: number; result?: T; error?: unknown }> {
  const started = performance.now();
  try {
    const result = await work;
    return { ms: performance.now() - started, result };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}
