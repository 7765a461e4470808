import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPool, type ConnectionPool, type PoolOptions } from '../../../src/db/pool/pool.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { createTestDatabase } from '../../helpers/database.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { TEST } from '../../helpers/context.ts';

const pools: ConnectionPool[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((p) => p.end(0)));
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/**
 * With `fakeClock`, the pool's timers and `Date` are fake from before it
 * starts (its housekeeping interval included), so a test moves time on with
 * `vi.advanceTimersByTimeAsync` instead of sleeping; sockets stay real.
 */
async function startPool(overrides: Partial<PoolOptions> = {}, { fakeClock = false } = {}): Promise<ConnectionPool> {
  const db = await createTestDatabase();
  cleanups.push(db.drop);
  if (fakeClock) vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const pool = createPool(
    testPoolOptions(db.url, {
      statementTimeoutMs: 0,
      min: 2,
      max: 4,
      acquireTimeoutMs: 2000,
      queueMax: 100,
      applicationName: `pooltest-${Math.random().toString(36).slice(2)}`,
      ...overrides,
    }),
  );
  pools.push(pool);
  await pool.start();
  return pool;
}

/** The pool's backends as the server sees them. */
async function backendPids(pool: ConnectionPool, url: string, applicationName: string): Promise<number[]> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [applicationName]);
    return rows.map((r) => r.pid);
  } finally {
    await admin.end();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits on real I/O (a connection being opened) without timers, so it works under a fake clock. */
async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setImmediate(r));
  }
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}

describe('ConnectionPool: size', () => {
  it('prewarms to min at start and logs its settings once', async () => {
    const { logger, lines } = captureLogs();
    const pool = await startPool({ min: 3, max: 7, logger });
    expect(pool.size).toBe(3);
    expect(pool.idle).toBe(3);
    expect(pool.counters.created).toBe(3);
    const ready = lines.filter((l) => String(l.msg).startsWith('pool ready'));
    expect(ready).toHaveLength(1);
    expect(ready[0]!.msg).toBe('pool ready: min 3, max 7, timeout 2s, recycle 3600s');
  });

  it('grows on demand up to max and never beyond', async () => {
    const pool = await startPool({ min: 1, max: 4 });
    const leases = await Promise.all(Array.from({ length: 4 }, () => pool.acquire(TEST)));
    expect(pool.size).toBe(4);
    expect(pool.active).toBe(4);
    const fifth = pool.acquire(TEST);
    await sleep(50);
    expect(pool.size).toBe(4);
    expect(pool.waiting).toBe(1);
    leases[0]!.release();
    (await fifth).release();
    for (const l of leases.slice(1)) l.release();
    expect(pool.size).toBe(4);
    expect(pool.idle).toBe(4);
  });

  it('serves waiters first-in, first-out', async () => {
    const pool = await startPool({ min: 1, max: 1 });
    const held = await pool.acquire(TEST);
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => pool.acquire(TEST).then((lease) => (order.push(n), lease.release())));
    await sleep(20);
    held.release();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('reuses idle connections last-in, first-out', async () => {
    const pool = await startPool({ min: 0, max: 3 });
    const [a, b, c] = await Promise.all([pool.acquire(TEST), pool.acquire(TEST), pool.acquire(TEST)]);
    const pidOf = async (lease: typeof a) => (await lease.query<{ pid: number }>({ text: 'select pg_backend_pid() as pid' })).rows[0]!.pid;
    const pids = [await pidOf(a), await pidOf(b), await pidOf(c)];
    a.release();
    b.release();
    c.release(); // c is now on top of the stack
    const again = await pool.acquire(TEST);
    expect(await pidOf(again)).toBe(pids[2]);
    again.release();
  });
});

describe('ConnectionPool: waiting', () => {
  it('fails an acquire after the timeout with POOL_TIMEOUT and cleans up the waiter', async () => {
    const pool = await startPool({ min: 1, max: 1, acquireTimeoutMs: 150 }, { fakeClock: true });
    const held = await pool.acquire(TEST);
    let settled = false;
    const failing = errorOf(pool.acquire(TEST)).finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(149);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const err = await failing;
    expect(isAppError(err, 'POOL_TIMEOUT')).toBe(true);
    expect(pool.waiting).toBe(0);
    expect(pool.counters.timeouts).toBe(1);
    held.release();
    // The timed-out waiter must not swallow the released connection.
    expect(pool.idle).toBe(1);
  });

  it('refuses at once when queueMax requests already wait (POOL_QUEUE_FULL)', async () => {
    const pool = await startPool({ min: 1, max: 1, queueMax: 2, acquireTimeoutMs: 5000 });
    const held = await pool.acquire(TEST);
    const queued = [pool.acquire(TEST), pool.acquire(TEST)];
    const started = Date.now();
    const err = await errorOf(pool.acquire(TEST));
    expect(Date.now() - started).toBeLessThan(1000); // far inside the 5 s acquire timeout: refused, not queued
    expect(isAppError(err, 'POOL_QUEUE_FULL')).toBe(true);
    expect(pool.counters.queueFull).toBe(1);
    held.release();
    await Promise.all(queued.map((q) => q.then((lease) => lease.release())));
  });

  it('in nowait mode refuses at once when every connection is busy (POOL_EXHAUSTED)', async () => {
    const pool = await startPool({ min: 1, max: 2, getMode: 'nowait' });
    const a = await pool.acquire(TEST);
    const b = await pool.acquire(TEST); // may grow: one connection was free to open
    const err = await errorOf(pool.acquire(TEST));
    expect(isAppError(err, 'POOL_EXHAUSTED')).toBe(true);
    expect(pool.counters.exhausted).toBe(1);
    a.release();
    b.release();
  });

  it('records every acquire wait in its histogram', async () => {
    const pool = await startPool({ min: 1, max: 1 });
    const held = await pool.acquire(TEST);
    const waiter = pool.acquire(TEST);
    await sleep(60);
    held.release();
    (await waiter).release();
    expect(pool.counters.acquireWait.count).toBe(2);
    expect(pool.counters.acquireWait.max).toBeGreaterThanOrEqual(50);
  });
});

describe('ConnectionPool: lifetime', () => {
  it('recycles a connection past its lifetime when returned, never while leased', async () => {
    const pool = await startPool({ min: 4, max: 4, recycleMs: 400, recycleJitter: 0.1 }, { fakeClock: true });
    const lease = await pool.acquire(TEST);
    const pid = (await lease.query<{ pid: number }>({ text: 'select pg_backend_pid() as pid' })).rows[0]!.pid;
    await vi.advanceTimersByTimeAsync(359); // inside every jittered lifetime (≥ 360 ms)
    lease.release();
    expect(pool.counters.recycled).toBe(0);
    const again = await pool.acquire(TEST);
    await vi.advanceTimersByTimeAsync(100); // now past every lifetime
    // Past its lifetime but still leased: still usable, same backend.
    expect((await again.query<{ pid: number }>({ text: 'select pg_backend_pid() as pid' })).rows[0]!.pid).toBe(pid);
    again.release();
    expect(pool.counters.recycled).toBe(1);
    await until(() => pool.size === 4); // replaced to keep min
    expect(pool.counters.created).toBe(5);
  });

  it('closes idle connections above min after the idle timeout, on its one-second sweep', async () => {
    const pool = await startPool({ min: 1, max: 4, idleTimeoutMs: 200 }, { fakeClock: true });
    const leases = await Promise.all(Array.from({ length: 4 }, () => pool.acquire(TEST)));
    for (const l of leases) l.release();
    expect(pool.size).toBe(4);
    await vi.advanceTimersByTimeAsync(999);
    expect(pool.size).toBe(4); // idle long enough, but the sweep has not run yet
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.size).toBe(1);
  });

  it('validates a connection that sat idle longer than the window before handing it out', async () => {
    const pool = await startPool({ min: 1, max: 1, validateAfterIdleMs: 50 }, { fakeClock: true });
    await vi.advanceTimersByTimeAsync(40);
    await pool.query(TEST, { text: 'select 1' });
    expect(pool.counters.validations).toBe(0); // not idle long enough
    await vi.advanceTimersByTimeAsync(80);
    const ok = await pool.query<{ one: number }>(TEST, { text: 'select 1 as one' });
    expect(ok.rows[0]!.one).toBe(1);
    expect(pool.counters.validations).toBe(1);
    // Just returned: no second round trip.
    await pool.query(TEST, { text: 'select 1' });
    expect(pool.counters.validations).toBe(1);
    expect(pool.counters.validationFailures).toBe(0);
  });
});

describe('ConnectionPool: broken connections', () => {
  it('discards backends killed with pg_terminate_backend, retries idempotent reads once, and refills to min', async () => {
    const name = `pooltest-kill-${Date.now()}`;
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const pool = await startPool({ min: 3, max: 3, connectionString: db.url, applicationName: name });
    const leases = await Promise.all([pool.acquire(TEST), pool.acquire(TEST), pool.acquire(TEST)]);
    for (const l of leases) l.release();
    const before = await backendPids(pool, db.url, name);
    expect(before).toHaveLength(3);

    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [name]);
    await admin.end();

    // Reads right after the kill succeed: dead idle connections are dropped
    // or, if one is handed out before its error arrives, the read is retried.
    const results = await Promise.all(
      Array.from({ length: 10 }, () => pool.query<{ one: number }>(TEST, { text: 'select 1 as one' }, { idempotent: true })),
    );
    expect(results.every((r) => r.rows[0]!.one === 1)).toBe(true);
    await sleep(300);
    const after = await backendPids(pool, db.url, name);
    expect(after).toHaveLength(3);
    expect(after.some((pid) => before.includes(pid))).toBe(false);
    expect(pool.counters.destroyed).toBeGreaterThanOrEqual(3);
  });

  it('does not retry a write whose connection broke mid-statement', async () => {
    const name = `pooltest-write-${Date.now()}`;
    const db = await createTestDatabase();
    cleanups.push(db.drop);
    const pool = await startPool({ min: 1, max: 2, connectionString: db.url, applicationName: name });
    await pool.query(TEST, { text: 'create table writes (n int)' });
    const acquiresBefore = pool.counters.acquires;
    // The write sleeps inside its statement; the backend is killed meanwhile.
    const write = errorOf(pool.query(TEST, { text: 'insert into writes select 1 from pg_sleep(1)' }));
    await sleep(200);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and state = 'active'", [name]);
    await admin.end();
    const err = await write;
    expect(isAppError(err, 'DB_UNAVAILABLE')).toBe(true);
    expect(pool.counters.acquires - acquiresBefore).toBe(1); // exactly one attempt
    const { rows } = await pool.query<{ n: string }>(TEST, { text: 'select count(*) as n from writes' });
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('fails fast with DB_UNAVAILABLE when the database cannot be reached, and start() rejects', async () => {
    const pool = createPool(
      testPoolOptions('postgres://postgres@127.0.0.1:1/none', {
        statementTimeoutMs: 0,
        min: 1,
        max: 2,
        acquireTimeoutMs: 5000,
        queueMax: 10,
      }),
    );
    const err = await errorOf(pool.start());
    expect(isAppError(err, 'DB_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).not.toContain('postgres://');
  });

  it('cancels a runaway statement with the statement timeout and keeps the connection', async () => {
    const pool = await startPool({ min: 1, max: 1, statementTimeoutMs: 100 });
    const err = await errorOf(pool.query(TEST, { text: 'select pg_sleep(5)' }));
    expect(isAppError(err, 'QUERY_TIMEOUT')).toBe(true);
    const ok = await pool.query<{ one: number }>(TEST, { text: 'select 1 as one' });
    expect(ok.rows[0]!.one).toBe(1);
    expect(pool.counters.destroyed).toBe(0);
  });
});

describe('ConnectionPool: transactions', () => {
  it('commits on success and rolls back on error, releasing on every path', async () => {
    const pool = await startPool({ min: 1, max: 1 });
    await pool.query(TEST, { text: 'create table t (n int)' });
    await pool.transaction(TEST, async (tx) => {
      await tx.query({ text: 'insert into t values (1)' });
    });
    const err = await errorOf(
      pool.transaction(TEST, async (tx) => {
        await tx.query({ text: 'insert into t values (2)' });
        throw new Error('boom');
      }),
    );
    expect((err as Error).message).toBe('boom');
    const sqlErr = await errorOf(
      pool.transaction(TEST, async (tx) => {
        await tx.query({ text: 'insert into t values (3)' });
        await tx.query({ text: 'select * from missing_table' });
      }),
    );
    expect((sqlErr as { code?: string }).code).toBe('42P01');
    expect(pool.active).toBe(0);
    const { rows } = await pool.query<{ n: number }>(TEST, { text: 'select n from t order by n' });
    expect(rows.map((r) => r.n)).toEqual([1]);
    // The single connection is still healthy after the rollbacks.
    expect(pool.counters.destroyed).toBe(0);
  });
});

describe('ConnectionPool: leaks and shutdown', () => {
  it('warns once when a connection is held longer than leakMs, naming where it was acquired', async () => {
    const { logger, lines } = captureLogs();
    const pool = await startPool({ min: 1, max: 1, leakMs: 100, logger }, { fakeClock: true });
    const lease = await pool.acquire(TEST);
    await vi.advanceTimersByTimeAsync(3000); // three sweeps
    lease.release();
    const leaks = lines.filter((l) => String(l.msg).includes('possible leak'));
    expect(leaks).toHaveLength(1);
    expect(String(leaks[0]!.acquiredAt)).toContain('pool.test.ts');
    expect(pool.counters.leaks).toBe(1);
  });

  it('end() waits for leased connections, refuses new acquires, then closes everything', async () => {
    const pool = await startPool({ min: 2, max: 2 });
    const lease = await pool.acquire(TEST);
    const ending = pool.end(2000);
    const refused = await errorOf(pool.acquire(TEST));
    expect(isAppError(refused, 'POOL_CLOSED')).toBe(true);
    await sleep(50);
    // The leased connection still works while the pool drains.
    await lease.query({ text: 'select 1' });
    lease.release();
    await ending;
    expect(pool.size).toBe(0);
  });

  it('end() gives up waiting after its timeout and closes leased connections too', async () => {
    const pool = await startPool({ min: 1, max: 1 });
    await pool.acquire(TEST); // never released
    const started = Date.now();
    await pool.end(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(pool.size).toBe(0);
  });
});

describe('ConnectionPool: adaptive limit', () => {
  it("leases at most the limiter's cap and serves waiters as soon as it rises", async () => {
    const cap = { limit: 2, noLoadRttMs: 0, onSample() {} };
    const pool = await startPool({ min: 1, max: 5, limiter: cap });
    expect(pool.limit).toBe(2);
    const a = await pool.acquire(TEST);
    const b = await pool.acquire(TEST);
    let third: Awaited<ReturnType<typeof pool.acquire>> | undefined;
    const waiting = pool.acquire(TEST).then((l) => (third = l));
    await sleep(50);
    expect(third).toBeUndefined();
    expect(pool.waiting).toBe(1);
    cap.limit = 3;
    await a.query({ text: 'select 1' }); // a sample: the pool notices the higher limit
    await waiting;
    expect(pool.active).toBe(3);
    a.release();
    b.release();
    third!.release();
    expect(pool.counters.limit).toBe(3);
  });

  it('parks returned connections instead of exceeding a lowered limit', async () => {
    const cap = { limit: 3, noLoadRttMs: 0, onSample() {} };
    const pool = await startPool({ min: 1, max: 5, limiter: cap });
    const leases = await Promise.all([pool.acquire(TEST), pool.acquire(TEST), pool.acquire(TEST)]);
    cap.limit = 1;
    const waiter = pool.acquire(TEST);
    leases[0].release();
    await sleep(30);
    expect(pool.active).toBe(2); // the released connection was parked, not handed over
    leases[1].release();
    leases[2].release();
    (await waiter).release();
    expect(pool.active).toBe(0);
  });
});
