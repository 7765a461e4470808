/**
 * One wait for a connection, one DB_POOL_TIMEOUT: time spent before the
 * acquire (a batched read waiting for its batch's turn) and validations of
 * idle connections count against the same bound as the queue. Silence comes
 * from a freeze proxy; what is asserted is what the acquire did by the time
 * it gave up (how many validations, whether it queued), never how fast.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { poolWaitLeftMs } from '../../../src/db/pool/acquire-bound.ts';
import type { PoolOptions } from '../../../src/db/pool/pool.ts';
import { READ } from '../../../src/db/types.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { TEST } from '../../helpers/context.ts';
import { eventually, poolBehindFreezeProxy, timed, type FrozenPool } from '../../helpers/frozen-pool.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** validateAfterIdleMs 0 means idle for at least a millisecond (Date.now()): let one pass. */
async function idleAMillisecond(): Promise<void> {
  const released = Date.now();
  await eventually(() => Date.now() > released, 1000);
}

async function setup(overrides: Partial<PoolOptions>): Promise<FrozenPool> {
  const frozen = await poolBehindFreezeProxy({ statementTimeoutMs: 300, ...overrides });
  cleanups.push(frozen.close);
  return frozen;
}

describe('poolWaitLeftMs', () => {
  it('is the whole pool timeout without a start, and what is left of it after one', () => {
    expect(poolWaitLeftMs({}, 1000)).toBe(1000);
    const left = poolWaitLeftMs({ since: performance.now() - 300 }, 1000);
    expect(left).toBeLessThanOrEqual(700);
    expect(left).toBeGreaterThan(0);
    expect(poolWaitLeftMs({ since: performance.now() - 1500 }, 1000)).toBeLessThan(0);
  });
});

describe('one bound for the wait for a connection', () => {
  it('refuses at once, without queueing, a statement whose caller already waited the whole pool timeout', async () => {
    const { pool } = await setup({ min: 1, max: 1, acquireTimeoutMs: 10_000 });
    const lease = await pool.acquire(TEST);
    try {
      const timeouts = pool.counters.timeouts;
      const refused = timed(pool.query(TEST, { text: 'select 1' }, { ...READ, waitingSince: performance.now() - 10_000 }));
      await Promise.resolve();
      expect(pool.waiting).toBe(0);
      const run = await refused;
      expect(isAppError(run.error, 'POOL_TIMEOUT'), String(run.error)).toBe(true);
      expect(pool.counters.timeouts).toBe(timeouts + 1);
    } finally {
      lease.release();
    }
  });

  it('stops validating silent idle connections one after another once the acquire is out of time', async () => {
    // Every idle connection needs validation; each silent one takes the validation's 1 s.
    const { pool, proxy } = await setup({ min: 4, max: 4, acquireTimeoutMs: 1500, validateAfterIdleMs: 0 });
    await Promise.all(Array.from({ length: 4 }, () => pool.query(TEST, { text: 'select 1' })));
    await idleAMillisecond();
    const validations = pool.counters.validations;

    proxy.freeze();
    const run = await timed(pool.query(TEST, { text: 'select 1' }));
    expect(isAppError(run.error, 'POOL_TIMEOUT'), String(run.error)).toBe(true);
    // One validation failed (1 s), a second was under way when the 1.5 s ran out; not all four in a row.
    expect(pool.counters.validations - validations).toBe(2);
    proxy.thaw();
  });

  it('returns a connection that proves alive after its acquire stopped waiting', async () => {
    const { pool, proxy } = await setup({ min: 1, max: 1, acquireTimeoutMs: 300, validateAfterIdleMs: 0 });
    await pool.query(TEST, { text: 'select 1' });
    await idleAMillisecond();
    const { created, destroyed } = pool.counters;

    proxy.freeze();
    const run = await timed(pool.query(TEST, { text: 'select 1' }));
    // The acquire's 300 ms passed while its validation (up to 1 s) still waited.
    expect(isAppError(run.error, 'POOL_TIMEOUT'), String(run.error)).toBe(true);
    expect(pool.idle).toBe(0);

    proxy.thaw();
    // The validation's SELECT 1 is answered: the connection goes back to the pool, nothing reopened.
    expect(await eventually(() => pool.idle === 1, 5000)).toBe(true);
    expect(pool.counters.destroyed).toBe(destroyed);
    expect(pool.counters.created).toBe(created);
  });
});
