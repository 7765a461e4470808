/**
 * The pool against a silent database: a freeze proxy between the pool and a
 * real Postgres stops forwarding without closing anything. Timeouts are
 * short so the suite stays fast; bounds are generous multiples of them.
 * What is asserted about time is order (the caller is answered before its
 * connection is judged), never speed.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { requestContext } from '../../../src/context/context.ts';
import { requestSignal } from '../../../src/context/deadline.ts';
import type { PoolOptions } from '../../../src/db/pool/pool.ts';
import { READ } from '../../../src/db/types.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { TEST } from '../../helpers/context.ts';
import { eventually as eventuallyWithin, poolBehindFreezeProxy, timed, type FrozenPool } from '../../helpers/frozen-pool.ts';
import { SILENCE_MARGIN_MS } from '../../../src/db/pool/silence.ts';
import { openClient } from '../../../src/db/pool/connection.ts';
import { DeadlineError } from '../../../src/async/deadline.ts';

const STATEMENT_TIMEOUT_MS = 300;
const ACQUIRE_TIMEOUT_MS = 1000;
/** statement_timeout + the silence margin + the pool timeout, doubled for a loaded machine. */
const BOUND_MS = 2 * (STATEMENT_TIMEOUT_MS + SILENCE_MARGIN_MS + ACQUIRE_TIMEOUT_MS);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(overrides: Partial<PoolOptions> = {}, direct = false): Promise<FrozenPool> {
  const frozen = await poolBehindFreezeProxy(
    { statementTimeoutMs: STATEMENT_TIMEOUT_MS, acquireTimeoutMs: ACQUIRE_TIMEOUT_MS, min: 4, max: 4, ...overrides },
    direct,
  );
  cleanups.push(frozen.close);
  return frozen;
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

const eventually = (condition: () => boolean | Promise<boolean>): Promise<boolean> => eventuallyWithin(condition, BOUND_MS);

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
    // The silent connections are destroyed once judged silent, not given back.
    expect(await eventually(() => pool.counters.destroyed > destroyedBefore)).toBe(true);

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
      const destroyed = pool.counters.destroyed;
      const run = await timed(lease.result.query({ text: 'select 1' }));
      expect(isAppError(run.error, 'DB_UNAVAILABLE')).toBe(true);
      expect(run.ms).toBeLessThan(BOUND_MS);
      lease.result.release(run.error);
      // Its siblings become suspect when it is judged silent, after its caller was answered.
      expect(await eventually(() => pool.counters.destroyed > destroyed)).toBe(true);
    }
    // The next acquire validates a suspect sibling, which is silent too.
    const before = pool.counters.validations;
    const next = await timed(pool.query(TEST, { text: 'select 1' }));
    expect(next.error).toBeDefined();
    expect(next.ms).toBeLessThan(BOUND_MS);
    expect(pool.counters.validations).toBeGreaterThan(before);
    proxy.thaw();
  });

  it('answers the caller before judging its connection, and keeps a connection whose server answers late', async () => {
    const { pool, proxy } = await setup({ min: 1, max: 1 });
    await pool.query(TEST, { text: 'select 1' });
    const { created, destroyed } = pool.counters;

    proxy.freeze();
    const run = await timed(pool.query(TEST, { text: 'select 1' }));
    expect(isAppError(run.error, 'DB_UNAVAILABLE'), String(run.error)).toBe(true);
    // Answered at statement_timeout + the answer margin; not yet judged silent: neither destroyed nor lent again.
    expect(pool.counters.destroyed).toBe(destroyed);
    expect(pool.size).toBe(1);
    expect(pool.idle).toBe(0);

    proxy.thaw();
    // The answer arrives after all: the same connection goes back to the pool and serves the next statement.
    expect(await eventually(() => pool.idle === 1)).toBe(true);
    await pool.query(TEST, { text: 'select 1' });
    expect(pool.counters.created).toBe(created);
    expect(pool.counters.destroyed).toBe(destroyed);
  });

  it('answers an abandoned request soon after its abort, even with statement_timeout off, and sends nothing behind the unanswered statement', async () => {
    const sent: string[] = [];
    const { pool, proxy } = await setup({ statementTimeoutMs: 0, min: 1, max: 1, onQuery: (e) => sent.push(e.statement.text) });
    await pool.query(TEST, { text: 'select 1' });
    const destroyed = pool.counters.destroyed;

    proxy.freeze();
    const { signal } = requestSignal(100);
    const ctx = requestContext('silent-transaction', 'TEST /silence', { deadline: performance.now() + 100, signal });
    const run = await timed(pool.transaction(ctx, (tx) => tx.query({ text: 'select 1' })));
    // Without the abort's bound this would wait the unbounded statement deadline (60 s).
    expect(isAppError(run.error, 'DEADLINE_EXCEEDED'), String(run.error)).toBe(true);
    // BEGIN met the silence; no ROLLBACK was queued behind it (it would only have waited for BEGIN).
    expect(sent).toEqual(['select 1', 'BEGIN']);
    expect(pool.counters.destroyed).toBe(destroyed);

    proxy.thaw();
    // Its transaction's state is unknown: once the connection is free it is discarded, not reused.
    expect(await eventually(() => pool.counters.destroyed > destroyed)).toBe(true);
  });

  it('reads an answer that arrived during a stall of the event loop, instead of calling the connection silent', async () => {
    // Straight to the server: the proxy runs in this process and would stall with it.
    const { pool } = await setup({ statementTimeoutMs: 50, min: 1, max: 1 }, true);
    const lease = await pool.acquire(TEST);
    try {
      // Sent synchronously; the server answers while this process is stalled past both bounds of the statement.
      const running = lease.query({ text: 'select 1' });
      const until = performance.now() + 50 + SILENCE_MARGIN_MS + 300;
      while (performance.now() < until);
      await expect(running).resolves.toMatchObject({ rowCount: 1 });
    } finally {
      lease.release();
    }
  });

  it('does not retry a read that met silence: a fresh connection would meet it too', async () => {
    const { pool, proxy } = await setup({ min: 2, max: 2 });
    await pool.query(TEST, { text: 'select 1' });
    const acquires = pool.counters.acquires;

    proxy.freeze();
    const run = await timed(pool.query(TEST, { text: 'select 1' }, READ));
    expect(isAppError(run.error, 'DB_UNAVAILABLE'), String(run.error)).toBe(true);
    expect(pool.counters.acquires - acquires).toBe(1);
    proxy.thaw();
  });

  it('fails a connect the server never answers with a DeadlineError: silence, which the read retry skips', async () => {
    const { proxy, url } = await setup({ min: 0 });
    proxy.freeze();
    const viaProxy = new URL(url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const connect = openClient({
      connectionString: viaProxy.toString(),
      statementTimeoutMs: 0,
      connectTimeoutMs: 200,
      applicationName: 'silence',
    });
    await expect(connect).rejects.toBeInstanceOf(DeadlineError);
    proxy.thaw();
  });
});
