/**
 * Shared pieces of the security suites: what "nothing was written" means,
 * checked against the database itself, and a small store to write against.
 */
import type { Queryable } from '../../src/db/types.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

/** Row counts of everything an order writes, and every product's stock. */
export interface WriteSnapshot {
  orders: number;
  orderItems: number;
  idempotencyKeys: number;
  customers: number;
  products: number;
  /** `id:stock` of every product, in id order. */
  stock: string;
}

/**
 * @example
 * const before = await writeSnapshot(app.pool);
 * await postJson(url, badBody);
 * expect(await writeSnapshot(app.pool)).toEqual(before);
 */
export async function writeSnapshot(db: Queryable): Promise<WriteSnapshot> {
  const { rows } = await db.query<{
    orders: string;
    order_items: string;
    idempotency_keys: string;
    customers: string;
    products: string;
    stock: string | null;
  }>(TEST, {
    text: `SELECT (SELECT count(*) FROM orders) AS orders,
                  (SELECT count(*) FROM order_items) AS order_items,
                  (SELECT count(*) FROM idempotency_keys) AS idempotency_keys,
                  (SELECT count(*) FROM customers) AS customers,
                  (SELECT count(*) FROM products) AS products,
                  (SELECT string_agg(id || ':' || stock, ',' ORDER BY id) FROM products) AS stock`,
  });
  const row = rows[0]!;
  return {
    orders: Number(row.orders),
    orderItems: Number(row.order_items),
    idempotencyKeys: Number(row.idempotency_keys),
    customers: Number(row.customers),
    products: Number(row.products),
    stock: row.stock ?? '',
  };
}

/** A customer and two products with stock, for orders that would succeed. */
export interface SmallStore {
  customerId: number;
  productIds: [number, number];
}

/** @example const store = await smallStore(app.pool); */
export async function smallStore(db: Queryable): Promise<SmallStore> {
  const customerId = await insertCustomer(db);
  const productIds: [number, number] = [await insertProduct(db, { stock: 1000 }), await insertProduct(db, { stock: 1000 })];
  return { customerId, productIds };
}

/** Keys for API_KEYS: long enough for the config's 16-character minimum. */
export const KEYS = {
  writer: 'wk_live_7f3a9c2e5b1d4f6a8c0e',
  reader: 'rk_live_1b2c3d4e5f6a7b8c9d0e',
} as const;

/** The API_KEYS value for {@link KEYS}. */
export const API_KEYS_ENV = `writer:${KEYS.writer}:write,reader:${KEYS.reader}:read`;
