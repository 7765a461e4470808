/**
 * Promise: however many orders race, stock is exact and orders are never
 * duplicated.
 *
 * - 500 concurrent orders for a product with stock 100: exactly 100 are
 *   created (201) and 400 refused (409 OUT_OF_STOCK); stock ends at 0, is
 *   never seen below 0, and the units in order lines equal the stock taken.
 * - Orders over the same products listed in opposite orders do not deadlock.
 * - 50 concurrent duplicates with one Idempotency-Key: one order, and all 50
 *   get that order back; the key with another body is 422 IDEMPOTENCY_MISMATCH.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { describeOutcome, fire, tally, type Outcome } from './helpers/load.ts';
import { orderShot, startStack, type Stack } from './helpers/stack.ts';

let stack: Stack;
let admin: pg.Client;
const customers: number[] = [];

beforeAll(async () => {
  stack = await startStack({
    DB_POOL_MIN: '2',
    DB_POOL_MAX: '10',
    // 500 requests arrive at once: all of them must be able to queue for a connection.
    DB_POOL_QUEUE_MAX: '2000',
  });
  admin = await stack.postgres.admin();
  for (let i = 0; i < 10; i++) customers.push(await insertCustomer(stack.app.pool));
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await stack?.close();
});

/** Polls a product's stock from its own connection until stopped; every value seen, in order. */
function watchStock(productId: number): { stop(): Promise<number[]> } {
  const seen: number[] = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      const { rows } = await admin.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [productId]);
      seen.push(rows[0]!.stock);
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await running;
      return seen;
    },
  };
}

async function soldOf(productId: number): Promise<{ orders: number; units: number; stock: number }> {
  const { rows } = await admin.query<{ orders: string; units: string; stock: number }>(
    `SELECT (SELECT count(DISTINCT order_id) FROM order_items WHERE product_id = $1) AS orders,
            (SELECT coalesce(sum(quantity), 0) FROM order_items WHERE product_id = $1) AS units,
            (SELECT stock FROM products WHERE id = $1) AS stock`,
    [productId],
  );
  return { orders: Number(rows[0]!.orders), units: Number(rows[0]!.units), stock: rows[0]!.stock };
}

const show = (list: readonly Outcome[]) => list.map((o) => describeOutcome(o));

describe('concurrent orders', () => {
  it('500 concurrent orders for stock 100: exactly 100 created, 400 refused, stock 0 and never negative', async () => {
    const product = await insertProduct(stack.app.pool, { stock: 100, priceCents: 1234 });
    const watcher = watchStock(product);
    const outcomes = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        fire(orderShot(stack.base, { customerId: customers[i % customers.length]!, items: [{ productId: product, quantity: 1 }] })),
      ),
    );
    const stockSeen = await watcher.stop();

    const created = outcomes.filter((o) => o.status === 201);
    const refused = outcomes.filter((o) => o.status === 409 && o.code === 'OUT_OF_STOCK');
    expect(show(outcomes.filter((o) => !created.includes(o) && !refused.includes(o))), tally(outcomes)).toEqual([]);
    expect(created).toHaveLength(100);
    expect(refused).toHaveLength(400);
    expect(new Set(created.map((o) => o.body.id)).size).toBe(100);
    for (const o of refused) expect(o.body).toMatchObject({ productId: product, requested: 1, available: 0 });

    expect(Math.min(...stockSeen)).toBeGreaterThanOrEqual(0);
    // Stock only ever goes down.
    expect(stockSeen.every((v, i) => i === 0 || v <= stockSeen[i - 1]!)).toBe(true);
    expect(await soldOf(product)).toEqual({ orders: 100, units: 100, stock: 0 });
  }, 60_000);

  it('orders over the same products listed in opposite orders neither deadlock nor oversell', async () => {
    const a = await insertProduct(stack.app.pool, { stock: 50 });
    const b = await insertProduct(stack.app.pool, { stock: 80 });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const items =
          i % 2 === 0
            ? [
                { productId: a, quantity: 1 },
                { productId: b, quantity: 1 },
              ]
            : [
                { productId: b, quantity: 1 },
                { productId: a, quantity: 1 },
              ];
        return fire(orderShot(stack.base, { customerId: customers[i % customers.length]!, items }));
      }),
    );
    const created = outcomes.filter((o) => o.status === 201);
    const refused = outcomes.filter((o) => o.status === 409 && o.code === 'OUT_OF_STOCK');
    // A deadlock would surface as 503 TRANSACTION_CONFLICT.
    expect(show(outcomes.filter((o) => !created.includes(o) && !refused.includes(o))), tally(outcomes)).toEqual([]);
    expect(created).toHaveLength(50);
    expect(await soldOf(a)).toEqual({ orders: 50, units: 50, stock: 0 });
    expect(await soldOf(b)).toEqual({ orders: 50, units: 50, stock: 30 });
  }, 60_000);
});

describe('concurrent duplicates with one Idempotency-Key', () => {
  it('50 at once: exactly one order, and every one of them gets it back', async () => {
    const product = await insertProduct(stack.app.pool, { stock: 1000 });
    const customerId = customers[0]!;
    const body = { customerId, items: [{ productId: product, quantity: 2 }] };
    const key = `dup-${product}`;
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => fire(orderShot(stack.base, body, key))));

    expect(show(outcomes.filter((o) => o.status !== 201)), tally(outcomes)).toEqual([]);
    const ids = new Set(outcomes.map((o) => o.body.id));
    expect(ids.size).toBe(1);
    expect(outcomes.every((o) => JSON.stringify(o.body) === JSON.stringify(outcomes[0]!.body))).toBe(true);
    expect(outcomes.filter((o) => o.headers?.get('idempotent-replayed') === 'true')).toHaveLength(49);
    expect(await soldOf(product)).toEqual({ orders: 1, units: 2, stock: 998 });

    // The same key with a different body is refused and changes nothing.
    const mismatch = await fire(orderShot(stack.base, { customerId, items: [{ productId: product, quantity: 3 }] }, key));
    expect(mismatch.status, describeOutcome(mismatch)).toBe(422);
    expect(mismatch.code).toBe('IDEMPOTENCY_MISMATCH');
    expect(await soldOf(product)).toEqual({ orders: 1, units: 2, stock: 998 });
  }, 60_000);

  it('50 at once, half with another body: one order; its body gets it back, the other body 422', async () => {
    const product = await insertProduct(stack.app.pool, { stock: 1000 });
    const customerId = customers[1]!;
    const bodies = [1, 5].map((quantity) => ({ customerId, items: [{ productId: product, quantity }] }));
    const key = `dup-mixed-${product}`;
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => fire(orderShot(stack.base, bodies[i % 2]!, key))));

    const created = outcomes.filter((o) => o.status === 201);
    const mismatched = outcomes.filter((o) => o.status === 422 && o.code === 'IDEMPOTENCY_MISMATCH');
    expect(show(outcomes.filter((o) => !created.includes(o) && !mismatched.includes(o))), tally(outcomes)).toEqual([]);
    expect(created).toHaveLength(25);
    expect(mismatched).toHaveLength(25);
    expect(new Set(created.map((o) => o.body.id)).size).toBe(1);
    const winner = created[0]!.body.items[0].quantity as number;
    // The winner's body was sent by exactly the requests that got 201.
    expect(created.every((o) => JSON.parse(o.shot.init!.body as string).items[0].quantity === winner)).toBe(true);
    expect(await soldOf(product)).toEqual({ orders: 1, units: winner, stock: 1000 - winner });
  }, 60_000);
});
