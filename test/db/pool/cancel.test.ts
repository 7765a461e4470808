/**
 * The request-deadline cancel (src/db/pool/cancel.ts) against its race: a
 * statement can end on its own while its CancelRequest is still on the way,
 * and a connection reused before the cancel lands would lose its NEXT
 * statement. The CancelRequest travels a fresh socket through a proxy that
 * holds new connections, so "still on the way" lasts as long as the test
 * wants; slowness is a table lock, never a sleep.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestContext } from '../../../src/context/context.ts';
import { requestSignal } from '../../../src/context/deadline.ts';
import { cancelled } from '../../../src/db/pool/cancel.ts';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { TEST } from '../../helpers/context.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { startFreezeProxy, type FreezeProxy } from '../../helpers/freeze-proxy.ts';

const APP = `cancel-${Math.random().toString(36).slice(2)}`;
const BLOCKED = { text: 'select count(*)::int as n from locked_for_cancel' };
let db: TestDatabase;
let proxy: FreezeProxy;
let pool: ConnectionPool;
let admin: pg.Client;

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  const target = new URL(db.url);
  proxy = await startFreezeProxy({ host: target.hostname, port: Number(target.port || 5432) });
  // The cancel may stay held for as long as a loaded machine needs to set up the next statement.
  pool = createPool(
    testPoolOptions(viaProxyUrl(), { statementTimeoutMs: 0, min: 1, max: 1, applicationName: APP, cancelTimeoutMs: 30_000 }),
  );
  await pool.start();
  await pool.query(TEST, { text: 'create table locked_for_cancel (id int)' });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await pool?.end(0);
  await proxy?.close();
  await db?.drop();
});

function viaProxyUrl(): string {
  const url = new URL(db.url);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}

async function lockTable(): Promise<pg.Client> {
  const locker = new pg.Client({ connectionString: db.url });
  await locker.connect();
  await locker.query('begin');
  await locker.query('lock table locked_for_cancel in access exclusive mode');
  return locker;
}

/** The pool's statements waiting on the lock, as the server sees them. */
async function waitingStatements(): Promise<number> {
  await admin.query('select pg_stat_clear_snapshot()');
  const { rows } = await admin.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where application_name = $1 and state = 'active' and query like '%locked_for_cancel%'",
    [APP],
  );
  return rows[0]!.n;
}

async function until(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('cancel on a deadline', () => {
  it('keeps the connection from its next statement until its CancelRequest has landed', async () => {
    let locker = await lockTable();
    const { signal, leave } = requestSignal(60_000);
    const ctx = requestContext('r', 'TEST /cancel', { deadline: performance.now() + 60_000, signal });
    const first = pool.query(ctx, BLOCKED).catch((e: unknown) => e);
    await until(async () => (await waitingStatements()) === 1);

    proxy.holdNew(); // the CancelRequest's socket is accepted but goes nowhere yet
    const sentBefore = cancelled.sent;
    leave();
    await until(() => cancelled.sent === sentBefore + 1);
    await locker.query('rollback'); // the statement ends on its own, ahead of its cancel
    await locker.end();
    await first;

    locker = await lockTable();
    const next = pool.query<{ n: number }>(TEST, BLOCKED).catch((e: unknown) => e);
    await until(() => pool.waiting === 1); // held back: the connection is still busy with its cancel
    expect(await waitingStatements()).toBe(0);

    proxy.releaseNew(); // the cancel lands on an idle backend, which ignores it
    await until(async () => (await waitingStatements()) === 1);
    await locker.query('rollback');
    await locker.end();
    expect(await next).toEqual({ rows: [{ n: 0 }], rowCount: 1 });
    expect(pool.counters.destroyed).toBe(0);
  });

  it('discards the connection when its CancelRequest may still land', async () => {
    const hasty = createPool(
      testPoolOptions(viaProxyUrl(), { statementTimeoutMs: 0, min: 1, max: 1, applicationName: APP, cancelTimeoutMs: 100 }),
    );
    await hasty.start();
    try {
      const locker = await lockTable();
      const { signal, leave } = requestSignal(60_000);
      const ctx = requestContext('r', 'TEST /cancel', { deadline: performance.now() + 60_000, signal });
      const first = hasty.query(ctx, BLOCKED).catch((e: unknown) => e);
      await until(async () => (await waitingStatements()) === 1);
      proxy.holdNew(); // the cancel never gets through: its outcome is unknown when its time is up
      leave();
      await locker.query('rollback');
      await locker.end();
      await first;
      await until(() => hasty.counters.destroyed === 1);
      proxy.releaseNew();
      await expect(hasty.query(TEST, { text: 'select 1 as one' })).resolves.toEqual({ rows: [{ one: 1 }], rowCount: 1 });
    } finally {
      proxy.releaseNew();
      await hasty.end(0);
    }
  });
});
