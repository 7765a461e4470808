/**
 * Deadline propagation to the acquire and the statement, and cancel on
 * disconnect at each stage (issue 15), on a real server: slowness is a
 * table locked by another session, never a sleep; "gone" is read from
 * pg_stat_activity, polled with a bounded wait.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestContext, type Context } from '../../../src/context/context.ts';
import { abandoned, requestSignal } from '../../../src/context/deadline.ts';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { TEST } from '../../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

const APP = `deadline-${Math.random().toString(36).slice(2)}`;
const BLOCKED = { text: 'select count(*) from locked_for_deadline' };
let db: TestDatabase;
let pool: ConnectionPool;
let admin: pg.Client;
let locker: pg.Client | undefined;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  pool = createPool(testPoolOptions(db.url, { statementTimeoutMs: 0, min: 1, max: 1, applicationName: APP }));
  await pool.start();
  await pool.query(TEST, { text: 'create table locked_for_deadline (id int)' });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await pool?.end(0);
  await db?.drop();
});

afterEach(async () => {
  await locker?.end();
  locker = undefined;
});

async function lockTable(): Promise<void> {
  locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  await locker.query('begin');
  await locker.query('lock table locked_for_deadline in access exclusive mode');
}

/** The pool's statements waiting on the lock, as the server sees them. */
async function waitingStatements(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where application_name = $1 and state = 'active' and query like '%locked_for_deadline%'",
    [APP],
  );
  return rows[0]!.n;
}

/** Polls until `condition` holds, at most `ms` (a bound, not a sleep). */
async function until(condition: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

function request(budgetMs: number): { ctx: Context; leave(): void } {
  const { signal, leave } = requestSignal(budgetMs);
  return { ctx: requestContext('r', 'TEST /deadline', { deadline: performance.now() + budgetMs, signal }), leave };
}

describe('deadline propagation', () => {
  it('cancels the statement on the server at the deadline and keeps the connection', async () => {
    await lockTable();
    const { ctx } = request(200);
    const err = await pool.query(ctx, BLOCKED).catch((e: unknown) => e);
    expect(isAppError(err, 'DEADLINE_EXCEEDED')).toBe(true);
    await until(async () => (await waitingStatements()) === 0);
    expect(pool.size).toBe(1);
    expect(pool.counters.destroyed).toBe(0);
    await expect(pool.query(TEST, { text: 'select 1' })).resolves.toBeDefined();
  });

  it('bounds the acquire by the remaining budget, below DB_POOL_TIMEOUT', async () => {
    await lockTable();
    const holder = pool.query(TEST, BLOCKED); // takes the only connection
    await until(async () => (await waitingStatements()) === 1);
    const { ctx } = request(100);
    const err = await pool.query(ctx, { text: 'select 1' }).catch((e: unknown) => e);
    expect(isAppError(err, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(pool.waiting).toBe(0);
    await locker!.query('rollback');
    await holder;
  });

  it('refuses at once a request whose budget is already spent', async () => {
    const ctx = requestContext('r', 'TEST /deadline', { deadline: performance.now() - 1 });
    const acquiresBefore = pool.counters.acquires;
    const err = await pool.query(ctx, { text: 'select 1' }).catch((e: unknown) => e);
    expect(isAppError(err, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(pool.counters.acquires).toBe(acquiresBefore);
  });

  it('refuses at once a request whose budget is below the wait the queue ahead of it costs', async () => {
    await lockTable();
    // The holder's 300 ms deadline frees the only connection; the first waiter has then waited about that long.
    const holder = pool.query(request(300).ctx, BLOCKED).catch((e: unknown) => e);
    await until(async () => (await waitingStatements()) === 1);
    const first = pool.query(TEST, BLOCKED); // served after the holder's deadline, then blocked on the lock itself
    const second = pool.query(TEST, { text: 'select 1' }); // keeps a queue standing
    await until(async () => isAppError(await holder, 'DEADLINE_EXCEEDED') && (await waitingStatements()) === 1 && pool.waiting === 1);
    const acquiresBefore = pool.counters.acquires;
    const hurried = await pool.query(request(20).ctx, { text: 'select 1' }).catch((e: unknown) => e);
    expect(isAppError(hurried, 'DEADLINE_EXCEEDED')).toBe(true);
    expect((hurried as Error).message).toMatch(/slower than its budget/);
    expect(pool.counters.acquires).toBe(acquiresBefore); // never queued
    await locker!.query('rollback');
    await Promise.all([first, second]);
    // The queue gone, the estimate is forgotten: a short budget waits its turn again.
    await expect(pool.query(request(20).ctx, { text: 'select 1' })).resolves.toBeDefined();
  });
});

describe('cancel on disconnect', () => {
  it('withdraws a queued acquire when its client leaves (stage queue)', async () => {
    await lockTable();
    const holder = pool.query(TEST, BLOCKED);
    await until(async () => (await waitingStatements()) === 1);
    const { ctx, leave } = request(60_000);
    const queued = pool.query(ctx, { text: 'select 1' }).catch((e: unknown) => e);
    await until(async () => pool.waiting === 1);
    const before = abandoned.queue;
    leave();
    expect(pool.waiting).toBe(0);
    expect(abandoned.queue).toBe(before + 1);
    expect(isAppError(await queued, 'DEADLINE_EXCEEDED')).toBe(true);
    await locker!.query('rollback');
    await holder;
  });

  it('cancels a running statement on the server when its client leaves (stage statement)', async () => {
    await lockTable();
    const { ctx, leave } = request(60_000);
    const running = pool.query(ctx, BLOCKED).catch((e: unknown) => e);
    await until(async () => (await waitingStatements()) === 1);
    const before = abandoned.statement;
    leave();
    expect(abandoned.statement).toBe(before + 1);
    await until(async () => (await waitingStatements()) === 0);
    expect(isAppError(await running, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(pool.counters.destroyed).toBe(0);
  });

  it('counts a client leaving outside the queue and the statement as stage after', () => {
    const { leave } = request(60_000);
    const before = abandoned.after;
    leave();
    expect(abandoned.after).toBe(before + 1);
  });
});
