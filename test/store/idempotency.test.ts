import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectionPool, Lease } from '../../src/db/pool/pool.ts';
import type { Queryable } from '../../src/db/types.ts';
import { isAppError } from '../../src/errors/app-error.ts';
import { createIdempotencyStore, requestHash, type IdempotencyKey } from '../../src/store/idempotency.ts';
import { startIdempotencyPurge } from '../../src/store/idempotency-purge.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertCustomer } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
let orderId: number;
const keys = createIdempotencyStore();
const k = (key: string, caller = 'key:test'): IdempotencyKey => ({ caller, key });

beforeAll(async () => {
  ({ pool, close } = await startTestPool());
  const customer = await insertCustomer(pool);
  const { rows } = await pool.query<{ id: string }>(TEST, {
    text: 'INSERT INTO orders (customer_id, total_cents) VALUES ($1, 0) RETURNING id',
    values: [customer],
  });
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
      expect(await keys.claim(first, k('concurrent'), 'h1')).toEqual({ status: 'claimed' });
      let settled = false;
      const duplicate = keys.claim(second, k('concurrent'), 'h1').finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(settled).toBe(false); // blocked on the unique index
      await keys.remember(first, k('concurrent'), orderId);
      await end(first, 'COMMIT');
      expect(await duplicate).toEqual({ status: 'replay', orderId });
    } finally {
      await end(second, 'ROLLBACK');
    }
  });

  it('lets the duplicate claim the key when the first transaction rolls back', async () => {
    const first = await begin();
    const second = await begin();
    try {
      await keys.claim(first, k('rolled-back'), 'h1');
      const duplicate = keys.claim(second, k('rolled-back'), 'h1');
      await end(first, 'ROLLBACK');
      expect(await duplicate).toEqual({ status: 'claimed' });
    } finally {
      await end(second, 'ROLLBACK');
    }
  });

  it('refuses a different request hash, and a key committed without an answer', async () => {
    await pool.transaction(TEST, async (tx) => {
      await keys.claim(tx, k('answered'), 'h1');
      await keys.remember(tx, k('answered'), orderId);
    });
    const mismatch = await pool.transaction(TEST, (tx) => keys.claim(tx, k('answered'), 'h2')).catch((err: unknown) => err);
    expect(isAppError(mismatch, 'IDEMPOTENCY_MISMATCH')).toBe(true);

    await pool.transaction(TEST, (tx) => keys.claim(tx, k('unanswered'), 'h1'));
    const unanswered = await pool.transaction(TEST, (tx) => keys.claim(tx, k('unanswered'), 'h1')).catch((err: unknown) => err);
    expect(isAppError(unanswered, 'IDEMPOTENCY_IN_PROGRESS')).toBe(true);
  });
});

describe('idempotency scope and lifetime', () => {
  async function orderIdFor(store: ReturnType<typeof createIdempotencyStore>, key: IdempotencyKey, hash: string) {
    return pool.transaction(TEST, async (tx) => {
      const claim = await store.claim(tx, key, hash);
      if (claim.status === 'claimed') await store.remember(tx, key, orderId);
      return claim.status;
    });
  }

  it("keeps one caller's key apart from another caller's same key", async () => {
    expect(await orderIdFor(keys, k('same', 'key:a'), 'h1')).toBe('claimed');
    expect(await orderIdFor(keys, k('same', 'key:b'), 'h2')).toBe('claimed');
    expect(await orderIdFor(keys, k('same', 'key:a'), 'h1')).toBe('replay');
  });

  it('treats a key older than the TTL as new (injected clock)', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const store = createIdempotencyStore({ ttlSeconds: 60, now: () => now });
    expect(await orderIdFor(store, k('ttl'), 'h1')).toBe('claimed');
    now += 59_000;
    expect(await orderIdFor(store, k('ttl'), 'h1')).toBe('replay');
    now += 2_000;
    expect(await orderIdFor(store, k('ttl'), 'h2')).toBe('claimed'); // another body too: the old use is forgotten
  });
});

describe('purge of expired keys', () => {
  it('deletes only expired rows, in statements of at most batchSize rows', async () => {
    await pool.query(TEST, { text: 'DELETE FROM idempotency_keys' });
    const at = Date.parse('2030-06-01T00:00:00Z');
    await pool.query(TEST, {
      text: `INSERT INTO idempotency_keys (caller, key, request_hash, order_id, created_at)
             SELECT 'key:purge', 'old-' || i, 'h', $1::bigint, $2::timestamptz - make_interval(secs => 120 + i) FROM generate_series(1, 25) i
             UNION ALL SELECT 'key:purge', 'fresh-' || i, 'h', $1::bigint, $2::timestamptz FROM generate_series(1, 3) i`,
      values: [orderId, new Date(at)],
    });
    const deletes: number[] = [];
    const counting: Queryable = {
      query: async (ctx, statement, options) => {
        const result = await pool.query(ctx, statement, options);
        deletes.push(result.rowCount);
        return result as never;
      },
    };
    const purge = startIdempotencyPurge({
      db: counting,
      ttlSeconds: 60,
      batchSize: 10,
      maxBatches: 2,
      now: () => at,
      logger: { warn: () => undefined },
    });
    try {
      expect(await purge.runOnce()).toBe(20); // bounded: two batches of 10 this round
      expect(deletes).toEqual([10, 10]);
      expect(await purge.runOnce()).toBe(5);
      expect(await purge.runOnce()).toBe(0);
    } finally {
      purge.stop();
    }
    const { rows } = await pool.query<{ key: string }>(TEST, {
      text: "SELECT key FROM idempotency_keys WHERE caller = 'key:purge' ORDER BY key",
    });
    expect(rows.map((r) => r.key)).toEqual(['fresh-1', 'fresh-2', 'fresh-3']);
  });

  it("runs on an unref'd interval and stops", async () => {
    vi.useFakeTimers();
    try {
      let runs = 0;
      const db: Queryable = { query: async () => ((runs += 1), { rows: [], rowCount: 0 }) };
      const purge = startIdempotencyPurge({ db, ttlSeconds: 60, intervalMs: 1000, logger: { warn: () => undefined } });
      await vi.advanceTimersByTimeAsync(3000);
      expect(runs).toBe(3);
      purge.stop();
      await vi.advanceTimersByTimeAsync(3000);
      expect(runs).toBe(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
