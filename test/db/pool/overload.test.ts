/**
 * The pool's queue discipline under overload (codel.ts, wait-queue.ts):
 * connections are held by leases that are not released (no sleeps), and
 * CoDel's clock is the fake `Date`, moved on by hand.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { requestContext } from '../../../src/context/context.ts';
import type { Priority } from '../../../src/context/priority.ts';
import { createCodel } from '../../../src/db/pool/codel.ts';
import { createPool, type ConnectionPool, type Lease, type PoolOptions } from '../../../src/db/pool/pool.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { testPoolOptions } from '../../helpers/app.ts';

const pools: ConnectionPool[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((p) => p.end(0)));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function startPool(size: number, highReserveShare: number, overrides: Partial<PoolOptions> = {}): Promise<ConnectionPool> {
  const db = await createTestDatabase();
  cleanups.push(db.drop);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const pool = createPool(
    testPoolOptions(db.url, {
      statementTimeoutMs: 0,
      min: size,
      max: size,
      acquireTimeoutMs: 60_000,
      queueMax: 100,
      overload: { codel: createCodel({ targetMs: 10, intervalMs: 100 }), highReserveShare },
      ...overrides,
    }),
  );
  pools.push(pool);
  await pool.start();
  return pool;
}

const ctx = (priority: Priority) => requestContext(`r-${Math.random()}`, 'TEST /overload', { priority });

/** Records the order in which acquires are served. */
function tracked(pool: ConnectionPool, name: string, priority: Priority, served: string[]): Promise<Lease> {
  return pool.acquire(ctx(priority)).then((lease) => {
    served.push(name);
    return lease;
  });
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

describe('priority order', () => {
  it('keeps a connection for high, and serves high waiters before earlier normal ones', async () => {
    const pool = await startPool(2, 0.2); // limit 2, reserve max(1, 0.4) = 1
    const served: string[] = [];
    const a = await tracked(pool, 'a', 'normal', served);
    const b = tracked(pool, 'b-normal', 'normal', served); // the second connection is the reserve: b waits
    await flush();
    expect(served).toEqual(['a']);
    const c = await tracked(pool, 'c-high', 'high', served); // high takes the reserve at once
    const d = tracked(pool, 'd-low', 'low', served);
    const e = tracked(pool, 'e-high', 'high', served);
    await flush();
    a.release();
    await flush();
    expect(served).toEqual(['a', 'c-high', 'e-high']); // e overtook b and d
    c.release(); // e holds the one connection normal may use: c's goes back to the reserve
    await flush();
    expect(served).toEqual(['a', 'c-high', 'e-high']);
    (await e).release();
    await flush();
    expect(served).toEqual(['a', 'c-high', 'e-high', 'b-normal']);
    (await b).release();
    await flush();
    expect(served).toEqual(['a', 'c-high', 'e-high', 'b-normal', 'd-low']);
    (await d).release();
  });
});

describe('CoDel shedding and recovery', () => {
  it('refuses new normal waiters once the wait stood above target for an interval, serves newest first, and recovers', async () => {
    const pool = await startPool(1, 0);
    const served: string[] = [];
    const held = await pool.acquire(ctx('normal'));
    const h1 = tracked(pool, 'h1', 'high', served);
    await vi.advanceTimersByTimeAsync(150);
    const h2 = tracked(pool, 'h2', 'high', served); // the wait is above target: the interval starts
    await vi.advanceTimersByTimeAsync(100);
    const h3 = tracked(pool, 'h3', 'high', served); // above target for a whole interval: dropping
    const refused = await pool.acquire(ctx('normal')).catch((err: unknown) => err);
    expect(isAppError(refused, 'POOL_OVERLOADED')).toBe(true);
    expect(pool.counters.shed.normal).toBe(1);
    const critical = tracked(pool, 'critical', 'critical', served); // never shed
    held.release();
    await flush();
    expect(served).toEqual(['critical']); // newest first while dropping (adaptive LIFO)
    for (const next of [critical, h3, h2]) {
      (await next).release();
      await flush();
    }
    expect(served).toEqual(['critical', 'h3', 'h2', 'h1']);
    (await h1).release();
    await flush();
    const after = await pool.acquire(ctx('normal')); // the queue drained: admitted again
    after.release();
    expect(pool.counters.shed.normal).toBe(1);
  });
});
