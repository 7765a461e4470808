/**
 * Idempotency keys: a retried request with the same key gets the order the
 * first one placed instead of placing another.
 *
 * A key belongs to its caller (`IdempotencyKey.caller`: an API key's name or
 * the client address), so the same string from another caller is another
 * key: nobody can replay, pre-claim or probe someone else's keys. Keys live
 * `ttlSeconds` (24 h by default, as Stripe's); an expired key is claimed
 * afresh as if new, and expired rows are deleted in the background
 * (idempotency-purge.ts). A row keeps the order id and the request's hash,
 * never the response: a replay re-reads the order.
 *
 * The key is claimed inside the caller's transaction with
 * `INSERT ... ON CONFLICT DO UPDATE ... WHERE expired`. A concurrent duplicate
 * blocks on the primary-key index until the first transaction ends: if it
 * committed, the duplicate finds the stored order; if it rolled back, the
 * duplicate's insert goes through and it does the work itself. So two
 * requests never both do it.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';
import type { Transaction } from '../db/types.ts';

/** A client's key, scoped to the client that sent it. */
export interface IdempotencyKey {
  /** Who sent it, e.g. `key:partner` or `ip:203.0.113.7`. */
  caller: string;
  key: string;
}

export type Claim = { status: 'claimed' } | { status: 'replay'; orderId: number };

export interface IdempotencyStore {
  /** Claims the key for this transaction, or returns the order stored for it. */
  claim(tx: Transaction, key: IdempotencyKey, requestHash: string): Promise<Claim>;
  /** Stores the order for a claimed key, in the same transaction as the work. */
  remember(tx: Transaction, key: IdempotencyKey, orderId: number): Promise<void>;
  /** Keys older than this are treated as new and may be purged. */
  readonly ttlSeconds: number;
  /** The current time, in epoch ms (injectable for tests). */
  now(): number;
}

export interface IdempotencyOptions {
  /** Default 86 400 (24 h). */
  ttlSeconds?: number;
  /** Epoch ms. Default `Date.now`. */
  now?: () => number;
}

// created_at is the claim time from this process's clock ($4), and a row
// claimed before $5 (now - ttl) has expired: it is taken over as new.
const CLAIM = {
  name: 'idempotency-claim',
  text: `INSERT INTO idempotency_keys AS k (caller, key, request_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (caller, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, order_id = NULL, created_at = EXCLUDED.created_at
         WHERE k.created_at < $5`,
};

const LOOKUP = {
  name: 'idempotency-lookup',
  text: 'SELECT request_hash, order_id FROM idempotency_keys WHERE caller = $1 AND key = $2',
};

const REMEMBER = {
  name: 'idempotency-remember',
  text: 'UPDATE idempotency_keys SET order_id = $3 WHERE caller = $1 AND key = $2',
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
 * const keys = createIdempotencyStore({ ttlSeconds: 86_400 });
 * const key = { caller: 'key:partner', key: 'checkout-5f1c' };
 * await pool.transaction(ctx, async (tx) => {
 *   const claim = await keys.claim(tx, key, requestHash(body));
 *   if (claim.status === 'replay') return readOrder(tx, claim.orderId);
 *   const order = await insertOrder(tx);
 *   await keys.remember(tx, key, order.id);
 *   return order;
 * });
 */
export function createIdempotencyStore(options: IdempotencyOptions = {}): IdempotencyStore {
  const ttlSeconds = options.ttlSeconds ?? 86_400;
  const now = options.now ?? Date.now;

  async function claim(tx: Transaction, { caller, key }: IdempotencyKey, hash: string): Promise<Claim> {
    const at = now();
    const inserted = await tx.query({ ...CLAIM, values: [caller, key, hash, new Date(at), new Date(at - ttlSeconds * 1000)] });
    if (inserted.rowCount === 1) return { status: 'claimed' };
    const { rows } = await tx.query<{ request_hash: string; order_id: string | null }>({ ...LOOKUP, values: [caller, key] });
    const row = rows[0];
    // The conflicting row is gone (purged between the two statements) or was
    // committed without an order: neither is a state to replay from.
    if (row === undefined || row.order_id === null) {
      throw new AppError('IDEMPOTENCY_IN_PROGRESS', 'a request with this Idempotency-Key has not finished; retry shortly', {
        retryAfterSeconds: 1,
      });
    }
    if (row.request_hash !== hash) {
      throw new AppError('IDEMPOTENCY_MISMATCH', 'this Idempotency-Key was already used with a different request body');
    }
    return { status: 'replay', orderId: Number(row.order_id) };
  }

  async function remember(tx: Transaction, { caller, key }: IdempotencyKey, orderId: number): Promise<void> {
    await tx.query({ ...REMEMBER, values: [caller, key, orderId] });
  }

  return { claim, remember, ttlSeconds, now };
}
