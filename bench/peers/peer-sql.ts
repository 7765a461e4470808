/**
 * The statements the peers run: the same text Holdfast's repositories run
 * (src/store/products.ts and customers.ts), so a peer differs from Holdfast
 * in the server around the query, never in the query. The OFFSET page is
 * the peers' own: Holdfast has no OFFSET route, which is the point of it.
 *
 * Kept as a copy, not an import, because the repositories do not export
 * their statements; if those change, change these with them.
 */
import { isoTimestamp, KEYSET_START } from '../../src/store/sql.ts';

const PRODUCT_COLUMNS = `id, sku, name, category, price_cents, stock, ${isoTimestamp('created_at')} AS created_at`;

/** @example pool.query({ name: 'products-get', text: PRODUCT_BY_ID, values: [7] }); */
export const PRODUCT_BY_ID = `SELECT ${PRODUCT_COLUMNS} FROM products WHERE id = $1`;

/** $1, $2 keyset position; $3 limit. @example pool.query(PRODUCTS_AFTER, [FIRST_PAGE.createdAt, FIRST_PAGE.id, 20]); */
export const PRODUCTS_AFTER = `SELECT ${PRODUCT_COLUMNS} FROM products WHERE (created_at, id) < ($1::timestamptz, $2::bigint) ORDER BY products.created_at DESC, products.id DESC LIMIT $3`;

/** $1 limit; $2 offset. @example pool.query(PRODUCTS_OFFSET, [20, 99_980]); */
export const PRODUCTS_OFFSET = `SELECT ${PRODUCT_COLUMNS} FROM products ORDER BY products.created_at DESC, products.id DESC LIMIT $1 OFFSET $2`;

/**
 * $1 customer; $2, $3 keyset; $4 limit: the page with its lines and product names, in one statement.
 *
 * @example
 * pool.query(CUSTOMER_ORDERS_PAGE, [3, FIRST_PAGE.createdAt, FIRST_PAGE.id, 21]);
 */
export const CUSTOMER_ORDERS_PAGE = `
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
  ORDER BY p.created_at DESC, p.id DESC`;

/**
 * The naive orders page: OFFSET, and no lines (fetched per order, as the original did). $1 customer; $2 limit; $3 offset.
 *
 * @example
 * pool.query(CUSTOMER_ORDERS_OFFSET, [3, 20, 0]);
 */
export const CUSTOMER_ORDERS_OFFSET = `SELECT id, customer_id, total_cents, ${isoTimestamp('created_at')} AS created_at FROM orders WHERE customer_id = $1 ORDER BY orders.created_at DESC, orders.id DESC LIMIT $2 OFFSET $3`;

/** One order's lines with product names. $1 order. @example pool.query(ORDER_LINES, [42]); */
export const ORDER_LINES = `SELECT oi.product_id, pr.name, oi.quantity, oi.unit_price_cents FROM order_items oi JOIN products pr ON pr.id = oi.product_id WHERE oi.order_id = $1 ORDER BY oi.product_id`;

/** Sorts before every row: the first keyset page. @example pool.query(PRODUCTS_AFTER, [FIRST_PAGE.createdAt, FIRST_PAGE.id, 20]); */
export const FIRST_PAGE = KEYSET_START;
