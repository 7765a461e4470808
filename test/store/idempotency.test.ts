import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool, Lease } from '../../src/db/pool/pool.ts';
import { isAppError } from '../../src/errors/app-error.ts';
import { createIdempotencyStore, requestHash } from '../../src/store/idempotency.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertCustomer } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
let orderId: number;
const keys = createIdempotencyStore();

beforeAll(async () => {
  ({ pool, close } = await startTestPool());
  const customer = await insertCustomer(pool);
  const { rows } = await pool.query<{ id: string }>(TEST, { text: 'INSERT INTO orders (customer_id, total_cents) VALUES ($1, 0) RETURNING id', values: [customer] });
  orderId = Number(rows[0]!.id);
});
afterAll(() => close?.());

async function begin(): Promise<Lease> {
  const lease = await pool.acquire(TEST);
  await lease.query({ text: 'BEGIN' });
  return lease;
}

async function end(lease: Lease, command: 'COMMIT' | 'ROLLBACK'): Promise<void> {
  await lease.query({ text: command });
  lease.release();
}

describe('requestHash', () => {
  it('is stable for equal values and differs for different ones', () => {
    expect(requestHash({ a: 1, b: [2] })).toBe(requestHash({ a: 1, b: [2] }));
    expect(requestHash({ a: 1, b: [2] })).not.toBe(requestHash({ a: 1, b: [3] }));
    expect(requestHash('x')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('idempotency store', () => {
  it('makes a concurrent duplicate wait for the first transaction and then replay its answer', async () => {
    const first = await begin();
    const second = await begin();
    try {
      expect(await keys.claim(first, 'concurrent', 'h1')).toEqual({ status: 'claimed' });
      let settled = false;
      const duplicate = keys.claim<{ id: number }>(second, 'concurrent', 'h1').finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(settled).toBe(false); // blocked on the unique index
      await keys.remember(first, 'concurrent', orderId, { id: orderId });
      await end(first, 'COMMIT');
      expect(await duplicate).toEqual({ status: 'replay', response: { id: orderId } });
    } finally {
      await end(second, 'ROLLBACK');
    }
  });

  it('lets the duplicate claim the key when the first transaction rolls back', async () => {
    const first = await begin();
    const second = await begin();
    try {
      await keys.claim(first, 'rolled-back', 'h1');
      const duplicate = keys.claim(second, 'rolled-back', 'h1');
      await end(first, 'ROLLBACK');
      expect(await duplicate).toEqual({ status: 'claimed' });
    } finally {
      await end(second, 'ROLLBACK');
    }
  });

  it('refuses a different request hash, and a key committed without an answer', async () => {
    await pool.transaction(TEST, async (tx) => {
      await keys.claim(tx, 'answered', 'h1');
      await keys.remember(tx, 'answered', orderId, { id: orderId });
    });
    const mismatch = await pool.transaction(TEST, (tx) => keys.claim(tx, 'answered', 'h2')).catch((err: unknown) => err);
    expect(isAppError(mismatch, 'IDEMPOTENCY_MISMATCH')).toBe(true);

    await pool.transaction(TEST, (tx) => keys.claim(tx, 'unanswered', 'h1'));
    const unanswered = await pool.transaction(TEST, (tx) => keys.claim(tx, 'unanswered', 'h1')).catch((err: unknown) => err);
    expect(isAppError(unanswered, 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
  });
});
