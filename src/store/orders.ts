/**
 * Places orders: the one write path of the store.
 *
 * Everything happens in one transaction. Stock is taken with a guarded
 * `UPDATE ... WHERE stock >= $q`, which re-checks the row after waiting for
 * its lock, so racing orders can never drive stock below zero. Products are
 * updated in ascending id order, so two orders over the same products take
 * their row locks in the same order and cannot deadlock.
 */
import { AppError } from '../errors/app-error.ts';
import type { Context } from '../context/context.ts';
import type { Database, Transaction } from '../db/types.ts';
import { createIdempotencyStore, requestHash, type IdempotencyKey, type IdempotencyStore } from './idempotency.ts';
import { isoTimestamp } from './sql.ts';

export interface OrderItem {
  productId: number;
  name: string;
  quantity: number;
  unitPriceCents: number;
}

export interface Order {
  id: number;
  customerId: number;
  totalCents: number;
  createdAt: string;
  /** In ascending productId order. */
  items: OrderItem[];
}

export interface NewOrder {
  customerId: number;
  items: { productId: number; quantity: number }[];
}

export interface PlacedOrder {
  order: Order;
  /** True when an earlier request with the same Idempotency-Key created it. */
  replayed: boolean;
}

export interface OrderStore {
  /**
   * Throws AppError: VALIDATION_FAILED (a product twice), UNKNOWN_REFERENCE
   * (no such customer or product), OUT_OF_STOCK, IDEMPOTENCY_MISMATCH.
   */
  place(ctx: Context, input: NewOrder, options?: PlaceOptions): Promise<PlacedOrder>;
}

export interface PlaceOptions {
  /** The client's Idempotency-Key, scoped to the caller that sent it. */
  idempotencyKey?: IdempotencyKey | undefined;
}

const CUSTOMER_EXISTS = {
  name: 'orders-customer-exists',
  text: 'SELECT 1 FROM customers WHERE id = $1',
};

const TAKE_STOCK = {
  name: 'orders-take-stock',
  text: 'UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2 RETURNING name, price_cents',
};

const STOCK_OF = {
  name: 'orders-stock-of',
  text: 'SELECT stock FROM products WHERE id = $1',
};

const INSERT_ORDER = {
  name: 'orders-insert',
  text: `
    WITH o AS (
      INSERT INTO orders (customer_id, total_cents) VALUES ($1, $2) RETURNING id, created_at
    ), lines AS (
      INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
      SELECT o.id, v.product_id, v.quantity, v.unit_price_cents
      FROM o, unnest($3::bigint[], $4::integer[], $5::integer[]) AS v(product_id, quantity, unit_price_cents)
    )
    SELECT id, ${isoTimestamp('created_at')} AS created_at FROM o`,
};

// A replay re-reads the order it placed (idempotency rows keep only its id).
const ORDER_BY_ID = {
  name: 'orders-by-id',
  text: `
    SELECT o.id, o.customer_id, o.total_cents, ${isoTimestamp('o.created_at')} AS created_at,
           coalesce((
             SELECT json_agg(json_build_object(
                      'productId', oi.product_id, 'name', p.name, 'quantity', oi.quantity, 'unitPriceCents', oi.unit_price_cents)
                    ORDER BY oi.product_id)
             FROM order_items oi JOIN products p ON p.id = oi.product_id
             WHERE oi.order_id = o.id
           ), '[]'::json) AS items
    FROM orders o WHERE o.id = $1`,
};

async function readOrder(tx: Transaction, id: number): Promise<Order> {
  const { rows } = await tx.query<{ id: string; customer_id: string; total_cents: string; created_at: string; items: OrderItem[] }>({
    ...ORDER_BY_ID,
    values: [id],
  });
  const row = rows[0];
  if (row === undefined) throw new Error(`order ${id}, named by an idempotency key, does not exist`);
  return {
    id: Number(row.id),
    customerId: Number(row.customer_id),
    totalCents: Number(row.total_cents),
    createdAt: row.created_at,
    items: row.items,
  };
}

interface Line {
  productId: number;
  quantity: number;
  /** Position in the request, to name the offending field. */
  index: number;
}

/** Lines in lock order; a product listed twice is the client's mistake, not a PK violation. */
function linesOf(input: NewOrder): Line[] {
  const lines = input.items.map((item, index) => ({ productId: item.productId, quantity: item.quantity, index }));
  lines.sort((a, b) => a.productId - b.productId);
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.productId === lines[i - 1]!.productId) {
      throw new AppError('VALIDATION_FAILED', `product ${line.productId} appears more than once in the order`, {
        field: `body.items[${line.index}].productId`,
      });
    }
  }
  return lines;
}

async function takeStock(tx: Transaction, line: Line): Promise<OrderItem> {
  const { rows } = await tx.query<{ name: string; price_cents: number }>({ ...TAKE_STOCK, values: [line.productId, line.quantity] });
  const row = rows[0];
  if (row !== undefined) return { productId: line.productId, name: row.name, quantity: line.quantity, unitPriceCents: row.price_cents };
  const stock = await tx.query<{ stock: number }>({ ...STOCK_OF, values: [line.productId] });
  const available = stock.rows[0]?.stock;
  if (available === undefined) {
    throw new AppError('UNKNOWN_REFERENCE', `product ${line.productId} does not exist`, {
      field: `body.items[${line.index}].productId`,
      productId: line.productId,
    });
  }
  throw new AppError('OUT_OF_STOCK', `product ${line.productId} has ${available} in stock, ${line.quantity} requested`, {
    productId: line.productId,
    requested: line.quantity,
    available,
  });
}

/**
 * @example
 * const orders = createOrderStore(pool);
 * const { order, replayed } = await orders.place(
 *   ctx,
 *   { customerId: 1, items: [{ productId: 7, quantity: 2 }] },
 *   { idempotencyKey: { caller: 'key:partner', key: 'checkout-5f1c' } },
 * );
 */
export function createOrderStore(db: Database, idempotency: IdempotencyStore = createIdempotencyStore()): OrderStore {
  async function place(ctx: Context, input: NewOrder, options: PlaceOptions = {}): Promise<PlacedOrder> {
    const lines = linesOf(input);
    const key = options.idempotencyKey;
    // Canonical (sorted) so that listing the same items in another order is the same request.
    const hash = key === undefined ? '' : requestHash({ customerId: input.customerId, items: lines.map((l) => [l.productId, l.quantity]) });

    return db.transaction(ctx, async (tx) => {
      if (key !== undefined) {
        const claim = await idempotency.claim(tx, key, hash);
        if (claim.status === 'replay') return { order: await readOrder(tx, claim.orderId), replayed: true };
      }

      const customer = await tx.query({ ...CUSTOMER_EXISTS, values: [input.customerId] });
      if (customer.rowCount === 0) {
        throw new AppError('UNKNOWN_REFERENCE', `customer ${input.customerId} does not exist`, {
          field: 'body.customerId',
          customerId: input.customerId,
        });
      }

      const items: OrderItem[] = [];
      for (const line of lines) items.push(await takeStock(tx, line));
      const totalCents = items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);

      const inserted = await tx.query<{ id: string; created_at: string }>({
        ...INSERT_ORDER,
        values: [
          input.customerId,
          totalCents,
          items.map((i) => i.productId),
          items.map((i) => i.quantity),
          items.map((i) => i.unitPriceCents),
        ],
      });
      const row = inserted.rows[0]!;
      const order: Order = { id: Number(row.id), customerId: input.customerId, totalCents, createdAt: row.created_at, items };

      if (key !== undefined) await idempotency.remember(tx, key, order.id);
      return { order, replayed: false };
    });
  }

  return { place };
}
