/**
 * Reads customers and their order history.
 *
 * A page of orders comes back with its lines and product names in one
 * statement: the page is cut first (keyset on the customer's
 * (customer_id, created_at, id) index), then each order's lines are folded
 * into JSON with `json_agg`, so the query count does not grow with the page.
 * The customer is looked up only when the page is empty: an order proves its
 * customer exists, so a non-empty page needs no second query.
 */
import type { Context } from '../context/context.ts';
import { READ, type Queryable } from '../db/types.ts';
import { KEYSET_START, isoTimestamp } from './sql.ts';
import type { Order } from './orders.ts';

export interface Customer {
  id: number;
  email: string;
  name: string;
  createdAt: string;
}

/** Position in a customer's newest-first order history. */
export interface OrderKey {
  createdAt: string;
  id: number;
}

export interface OrderPage {
  items: Order[];
  next: OrderKey | null;
}

export interface CustomerStore {
  get(ctx: Context, id: number): Promise<Customer | undefined>;
  exists(ctx: Context, id: number): Promise<boolean>;
  /** The page, or undefined when the customer does not exist. */
  listOrders(ctx: Context, customerId: number, options: { limit: number; after?: OrderKey | undefined }): Promise<OrderPage | undefined>;
}

interface CustomerRow {
  id: string;
  email: string;
  name: string;
  created_at: string;
}

interface OrderRow {
  id: string;
  customer_id: string;
  total_cents: string;
  created_at: string;
  items: Order['items'];
}

const GET = {
  name: 'customers-get',
  text: `SELECT id, email, name, ${isoTimestamp('created_at')} AS created_at FROM customers WHERE id = $1`,
};

const EXISTS = {
  name: 'customers-exists',
  text: 'SELECT 1 FROM customers WHERE id = $1',
};

const ORDERS_PAGE = {
  name: 'customers-orders-page',
  text: `
    WITH page AS (
      SELECT id, customer_id, total_cents, created_at
      FROM orders
      WHERE customer_id = $1 AND (created_at, id) < ($2::timestamptz, $3::bigint)
      ORDER BY created_at DESC, id DESC
      LIMIT $4
    )
    SELECT p.id, p.customer_id, p.total_cents, ${isoTimestamp('p.created_at')} AS created_at,
           coalesce((
             SELECT json_agg(json_build_object(
                      'productId', oi.product_id,
                      'name', pr.name,
                      'quantity', oi.quantity,
                      'unitPriceCents', oi.unit_price_cents)
                    ORDER BY oi.product_id)
             FROM order_items oi JOIN products pr ON pr.id = oi.product_id
             WHERE oi.order_id = p.id
           ), '[]'::json) AS items
    FROM page p
    ORDER BY p.created_at DESC, p.id DESC`,
};

/**
 * Customer reads over `db`.
 *
 * @example
 * const customers = createCustomerStore(pool);
 * const page = await customers.listOrders(ctx, 7, { limit: 20 }); // undefined: no customer 7
 */
export function createCustomerStore(db: Queryable): CustomerStore {
  async function get(ctx: Context, id: number): Promise<Customer | undefined> {
    const { rows } = await db.query<CustomerRow>(ctx, { ...GET, values: [id] }, READ);
    const row = rows[0];
    return row === undefined ? undefined : { id: Number(row.id), email: row.email, name: row.name, createdAt: row.created_at };
  }

  async function exists(ctx: Context, id: number): Promise<boolean> {
    const { rowCount } = await db.query(ctx, { ...EXISTS, values: [id] }, READ);
    return rowCount > 0;
  }

  async function listOrders(
    ctx: Context,
    customerId: number,
    options: { limit: number; after?: OrderKey | undefined },
  ): Promise<OrderPage | undefined> {
    const { limit, after } = options;
    const values = [customerId, after?.createdAt ?? KEYSET_START.createdAt, after?.id ?? KEYSET_START.id, limit + 1];
    const { rows } = await db.query<OrderRow>(ctx, { ...ORDERS_PAGE, values }, READ);
    if (rows.length === 0 && !(await exists(ctx, customerId))) return undefined;
    const items: Order[] = rows.slice(0, limit).map((row) => ({
      id: Number(row.id),
      customerId: Number(row.customer_id),
      totalCents: Number(row.total_cents),
      createdAt: row.created_at,
      items: row.items,
    }));
    const last = items.at(-1);
    return { items, next: rows.length > limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  return { get, exists, listOrders };
}
