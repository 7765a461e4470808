/**
 * What "no data lost, nothing half-written" means for the store, checked
 * straight in the database after a fault, whatever the HTTP answers said:
 *
 * - every order has its lines, and its total is the sum of its lines;
 * - for every product, the stock taken equals the units in order lines
 *   (initial − current = SUM(order_items.quantity)), and stock is never negative;
 * - every order a client was told about (201) exists, with the same lines.
 */
import type pg from 'pg';
import { expect } from 'vitest';
import type { Outcome } from './load.ts';

/** An order as a 201 answered it. */
export interface AcknowledgedOrder {
  id: number;
  items: { productId: number; quantity: number }[];
}

/** The orders that 201 answers carried. */
export function acknowledgedOrders(outcomes: readonly Outcome[]): AcknowledgedOrder[] {
  return outcomes
    .filter((o) => o.status === 201 && typeof o.body === 'object' && o.body !== null)
    .map((o) => ({
      id: Number(o.body.id),
      items: (o.body.items as { productId: number; quantity: number }[]).map(({ productId, quantity }) => ({ productId, quantity })),
    }));
}

/**
 * Asserts the invariants above and returns the number of orders in the database.
 *
 * @example
 * const orders = await expectStoreConsistent(admin, store.initialStock, acknowledgedOrders(outcomes));
 */
export async function expectStoreConsistent(
  admin: pg.Client,
  initialStock: ReadonlyMap<number, number>,
  acknowledged: readonly AcknowledgedOrder[] = [],
): Promise<number> {
  const headless = await admin.query<{ id: string }>(
    'SELECT o.id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = o.id)',
  );
  expect(
    headless.rows.map((r) => Number(r.id)),
    'orders without any line',
  ).toEqual([]);

  const wrongTotals = await admin.query<{ id: string }>(
    `SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id
      GROUP BY o.id, o.total_cents HAVING o.total_cents <> SUM(i.quantity::bigint * i.unit_price_cents)`,
  );
  expect(
    wrongTotals.rows.map((r) => Number(r.id)),
    'orders whose total is not the sum of their lines',
  ).toEqual([]);

  const ids = [...initialStock.keys()];
  const { rows } = await admin.query<{ id: string; stock: number; sold: string }>(
    `SELECT p.id, p.stock, coalesce((SELECT SUM(quantity) FROM order_items i WHERE i.product_id = p.id), 0) AS sold
       FROM products p WHERE p.id = ANY($1::bigint[])`,
    [ids],
  );
  expect(rows.length).toBe(ids.length);
  const mismatches = rows
    .map((r) => ({ productId: Number(r.id), taken: initialStock.get(Number(r.id))! - r.stock, sold: Number(r.sold), stock: r.stock }))
    .filter((r) => r.taken !== r.sold || r.stock < 0);
  expect(mismatches, 'products whose stock taken differs from the units in order lines').toEqual([]);

  if (acknowledged.length > 0) {
    const stored = await admin.query<{ order_id: string; product_id: string; quantity: number }>(
      'SELECT order_id, product_id, quantity FROM order_items WHERE order_id = ANY($1::bigint[]) ORDER BY order_id, product_id',
      [acknowledged.map((o) => o.id)],
    );
    const byOrder = new Map<number, { productId: number; quantity: number }[]>();
    for (const r of stored.rows) {
      const lines = byOrder.get(Number(r.order_id)) ?? [];
      lines.push({ productId: Number(r.product_id), quantity: r.quantity });
      byOrder.set(Number(r.order_id), lines);
    }
    const lost = acknowledged.filter((o) => {
      const lines = byOrder.get(o.id);
      const expected = [...o.items].sort((a, b) => a.productId - b.productId);
      return lines === undefined || JSON.stringify(lines) !== JSON.stringify(expected);
    });
    expect(
      lost.map((o) => o.id),
      'orders answered 201 but missing or different in the database',
    ).toEqual([]);
  }

  const count = await admin.query<{ n: string }>('SELECT count(*) AS n FROM orders');
  return Number(count.rows[0]!.n);
}
