/**
 * Idempotency keys: a retried request with the same key gets the answer the
 * first one produced instead of doing the work again.
 *
 * The key is claimed inside the caller's transaction with
 * `INSERT ... ON CONFLICT DO NOTHING`. A concurrent duplicate blocks on the
 * primary-key index until the first transaction ends: if it committed, the
 * duplicate finds the stored answer; if it rolled back, the duplicate's insert
 * goes through and it does the work itself. So two requests never both do it.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';
import type { Transaction } from '../db/types.ts';

export type Claim<T> = { status: 'claimed' } | { status: 'replay'; response: T };

export interface IdempotencyStore {
  /** Claims `key` for this transaction, or returns the answer stored for it. */
  claim<T>(tx: Transaction, key: string, requestHash: string): Promise<Claim<T>>;
  /** Stores the answer for a claimed key, in the same transaction as the work. */
  remember(tx: Transaction, key: string, orderId: number, response: unknown): Promise<void>;
}

const CLAIM = {
  name: 'idempotency-claim',
  text: 'INSERT INTO idempotency_keys (key, request_hash) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
};

const LOOKUP = {
  name: 'idempotency-lookup',
  text: 'SELECT request_hash, response FROM idempotency_keys WHERE key = $1',
};

const REMEMBER = {
  name: 'idempotency-remember',
  text: 'UPDATE idempotency_keys SET order_id = $2, response = $3 WHERE key = $1',
};

/**
 * A stable fingerprint of a request, to tell a retry from a different request
 * that reuses the key. `value` must already be in a canonical shape.
 *
 * @example
 * requestHash({ customerId: 1, items: [[7, 2]] }) // 64 hex characters
 */
export function requestHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/**
 * @example
 * const keys = createIdempotencyStore();
 * await pool.transaction(ctx, async (tx) => {
 *   const claim = await keys.claim<Order>(tx, key, requestHash(body));
 *   if (claim.status === 'replay') return claim.response;
 *   const order = await insertOrder(tx);
 *   await keys.remember(tx, key, order.id, order);
 *   return order;
 * });
 */
export function createIdempotencyStore(): IdempotencyStore {
  async function claim<T>(tx: Transaction, key: string, hash: string): Promise<Claim<T>> {
    const inserted = await tx.query({ ...CLAIM, values: [key, hash] });
    if (inserted.rowCount === 1) return { status: 'claimed' };
    const { rows } = await tx.query<{ request_hash: string; response: T | null }>({ ...LOOKUP, values: [key] });
    const row = rows[0];
    // The conflicting row is gone (deleted between the two statements) or was
    // committed without an answer: neither is a state to replay from.
    if (row === undefined || row.response === null) {
      throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key has not finished; retry shortly', {
        retryAfterSeconds: 1,
      });
    }
    if (row.request_hash !== hash) {
      throw new AppError('IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was already used with a different request body');
    }
    return { status: 'replay', response: row.response };
  }

  async function remember(tx: Transaction, key: string, orderId: number, response: unknown): Promise<void> {
    await tx.query({ ...REMEMBER, values: [key, orderId, JSON.stringify(response)] });
  }

  return { claim, remember };
}
