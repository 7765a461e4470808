/**
 * Rows for store and HTTP tests, inserted directly with SQL so a test states
 * exactly the data it depends on (prices, stock, timestamps).
 */
import type { Queryable } from '../../src/db/types.ts';
import { TEST } from './context.ts';

let sequence = 0;
/** Unique per process, so fixtures never collide on sku or email. */
function unique(prefix: string): string {
  sequence += 1;
  return `${prefix}-${process.pid}-${sequence}`;
}

export interface ProductFixture {
  name?: string;
  sku?: string;
  category?: string;
  priceCents?: number;
  stock?: number;
  /** SQL timestamptz literal; defaults to now(). */
  createdAt?: string;
}

/**
 * Inserts one product and returns its id.
 *
 * @example
 * const id = await insertProduct(pool, { stock: 50, priceCents: 1999 });
 */
export async function insertProduct(db: Queryable, product: ProductFixture = {}): Promise<number> {
  const { rows } = await db.query<{ id: string }>(TEST, {
    text: `INSERT INTO products (sku, name, category, price_cents, stock, created_at)
           VALUES ($1, $2, $3, $4, $5, coalesce($6::timestamptz, now())) RETURNING id`,
    values: [
      product.sku ?? unique('sku'),
      product.name ?? unique('Product'),
      product.category ?? 'general',
      product.priceCents ?? 1000,
      product.stock ?? 100,
      product.createdAt ?? null,
    ],
  });
  return Number(rows[0]!.id);
}

/**
 * Inserts `count` products in one statement; `createdAt(i)` picks each one's timestamp.
 *
 * @example
 * await insertProducts(pool, 300, (i) => `2025-01-01T00:00:00.${String(i % 7).padStart(6, '0')}Z`);
 */
export async function insertProducts(db: Queryable, count: number, createdAt: (i: number) => string, category = 'bulk'): Promise<number[]> {
  const stamps = Array.from({ length: count }, (_, i) => createdAt(i));
  const prefix = unique('bulk');
  const { rows } = await db.query<{ id: string }>(TEST, {
    text: `INSERT INTO products (sku, name, category, price_cents, stock, created_at)
           SELECT $1 || '-' || n, 'Bulk item ' || n, $2, 100, 10, ts
           FROM unnest($3::timestamptz[]) WITH ORDINALITY AS t(ts, n)
           RETURNING id`,
    values: [prefix, category, stamps],
  });
  return rows.map((r) => Number(r.id));
}

/**
 * @example
 * const customerId = await insertCustomer(pool);
 */
export async function insertCustomer(db: Queryable, customer: { name?: string; email?: string } = {}): Promise<number> {
  const { rows } = await db.query<{ id: string }>(TEST, {
    text: 'INSERT INTO customers (email, name) VALUES ($1, $2) RETURNING id',
    values: [customer.email ?? `${unique('customer')}@example.test`, customer.name ?? 'Test Customer'],
  });
  return Number(rows[0]!.id);
}

/**
 * Inserts an order with the given lines at `createdAt` (default now), bypassing stock.
 *
 * @example
 * await insertOrder(pool, customerId, [{ productId, quantity: 2, unitPriceCents: 500 }], '2025-01-01T00:00:00Z');
 */
export async function insertOrder(
  db: Queryable,
  customerId: number,
  lines: { productId: number; quantity: number; unitPriceCents: number }[],
  createdAt?: string,
): Promise<number> {
  const total = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceCents, 0);
  const { rows } = await db.query<{ id: string }>(TEST, {
    text: `WITH o AS (
             INSERT INTO orders (customer_id, total_cents, created_at) VALUES ($1, $2, coalesce($3::timestamptz, now())) RETURNING id
           ), l AS (
             INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
             SELECT o.id, p, q, u FROM o, unnest($4::bigint[], $5::int[], $6::int[]) AS v(p, q, u)
           )
           SELECT id FROM o`,
    values: [
      customerId,
      total,
      createdAt ?? null,
      lines.map((l) => l.productId),
      lines.map((l) => l.quantity),
      lines.map((l) => l.unitPriceCents),
    ],
  });
  return Number(rows[0]!.id);
}

/** @example expect(await stockOf(pool, productId)).toBe(0); */
export async function stockOf(db: Queryable, productId: number): Promise<number> {
  const { rows } = await db.query<{ stock: number }>(TEST, { text: 'SELECT stock FROM products WHERE id = $1', values: [productId] });
  return rows[0]!.stock;
}
