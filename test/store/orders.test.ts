import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool } from '../../src/db/pool/pool.ts';
import { isAppError } from '../../src/errors/app-error.ts';
import { createOrderStore, type OrderStore } from '../../src/store/orders.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertCustomer, insertProduct, stockOf } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
let orders: OrderStore;
let customerId: number;
beforeAll(async () => {
  ({ pool, close } = await startTestPool());
  orders = createOrderStore(pool);
  customerId = await insertCustomer(pool);
});
afterAll(() => close?.());

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('order store', () => {
  it('places an order, storing its lines and total, and takes the stock', async () => {
    const a = await insertProduct(pool, { priceCents: 700, stock: 5 });
    const { order, replayed } = await orders.place(TEST, { customerId, items: [{ productId: a, quantity: 2 }] });
    expect(replayed).toBe(false);
    expect(order).toMatchObject({ customerId, totalCents: 1400, items: [{ productId: a, quantity: 2, unitPriceCents: 700 }] });
    expect(await stockOf(pool, a)).toBe(3);
    const { rows } = await pool.query<{ total_cents: string; lines: string }>(TEST, {
      text: 'SELECT o.total_cents, (SELECT count(*) FROM order_items WHERE order_id = o.id) AS lines FROM orders o WHERE id = $1',
      values: [order.id],
    });
    expect(rows[0]).toEqual({ total_cents: '1400', lines: '1' });
  });

  it('rolls back every line when one is out of stock', async () => {
    const a = await insertProduct(pool, { stock: 5 });
    const b = await insertProduct(pool, { stock: 0 });
    const err = await rejection(
      orders.place(TEST, {
        customerId,
        items: [
          { productId: a, quantity: 1 },
          { productId: b, quantity: 1 },
        ],
      }),
    );
    expect(isAppError(err, 'OUT_OF_STOCK')).toBe(true);
    expect(await stockOf(pool, a)).toBe(5);
  });

  it('refuses unknown customers and products, and a product listed twice', async () => {
    const a = await insertProduct(pool);
    expect(
      isAppError(
        await rejection(orders.place(TEST, { customerId: customerId + 1000, items: [{ productId: a, quantity: 1 }] })),
        'UNKNOWN_REFERENCE',
      ),
    ).toBe(true);
    expect(
      isAppError(await rejection(orders.place(TEST, { customerId, items: [{ productId: a + 1000, quantity: 1 }] })), 'UNKNOWN_REFERENCE'),
    ).toBe(true);
    const twice = await rejection(
      orders.place(TEST, {
        customerId,
        items: [
          { productId: a, quantity: 1 },
          { productId: a, quantity: 1 },
        ],
      }),
    );
    expect(isAppError(twice, 'VALIDATION_FAILED')).toBe(true);
  });

  it('replays an idempotent request from the stored answer', async () => {
    const a = await insertProduct(pool, { stock: 10 });
    const input = { customerId, items: [{ productId: a, quantity: 1 }] };
    const first = await orders.place(TEST, input, { idempotencyKey: { caller: 'key:store', key: 'store-key' } });
    const again = await orders.place(TEST, input, { idempotencyKey: { caller: 'key:store', key: 'store-key' } });
    expect(again).toEqual({ order: first.order, replayed: true });
    expect(await stockOf(pool, a)).toBe(9);
    const other = await rejection(
      orders.place(
        TEST,
        { ...input, items: [{ productId: a, quantity: 2 }] },
        { idempotencyKey: { caller: 'key:store', key: 'store-key' } },
      ),
    );
    expect(isAppError(other, 'IDEMPOTENCY_MISMATCH')).toBe(true);
  });
});
