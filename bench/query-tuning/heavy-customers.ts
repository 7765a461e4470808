/**
 * `npx tsx bench/query-tuning/heavy-customers.ts <database-url>`
 *
 * Adds a few customers with long order histories to a seeded store. The
 * seeder spreads 200,000 orders over 10,000 customers (20 each, 41 at most),
 * so no customer has a 100-order page to measure; these have 150 each, in
 * the seeder's shape (1-5 lines, last 90 days). Idempotent: a second run
 * finds them and adds nothing. Prints their ids.
 */
import pg from 'pg';

const CUSTOMERS = 20;
const ORDERS_EACH = 150;
const EMAIL = (i: number) => `bench.heavy.${i}@example.com`;

// One statement per customer, generated in Postgres like src/db/seed/seed.ts does:
// lines are products first, first+step, ... so they never repeat in an order.
const ADD_ORDERS = `
  WITH p AS MATERIALIZED (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(price_cents ORDER BY id) AS prices, count(*)::int AS n FROM products
  ),
  o AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id,
           now() - interval '90 days' * random() AS created_at,
           1 + floor(random() * 5)::int AS lines,
           floor(p.n * random() ^ 2)::int AS first,
           1 + floor(random() * greatest(1, (p.n - 1) / 4))::int AS step
    FROM generate_series(1, $2::int), p
  ),
  items AS MATERIALIZED (
    SELECT o.id AS order_id, p.ids[1 + (o.first + k * o.step) % p.n] AS product_id,
           1 + floor(random() ^ 3 * 4)::int AS quantity, p.prices[1 + (o.first + k * o.step) % p.n] AS unit_price_cents
    FROM o CROSS JOIN p CROSS JOIN LATERAL generate_series(0, o.lines - 1) AS k
  ),
  new_orders AS (
    INSERT INTO orders (id, customer_id, total_cents, created_at) OVERRIDING SYSTEM VALUE
    SELECT o.id, $1::bigint, t.total, o.created_at
    FROM o JOIN (SELECT order_id, sum(quantity::bigint * unit_price_cents) AS total FROM items GROUP BY order_id) t ON t.order_id = o.id
  )
  INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
  SELECT order_id, product_id, quantity, unit_price_cents FROM items`;

/**
 * Ids of the heavy customers, created (with their orders) if missing.
 *
 * @example
 * const ids = await ensureHeavyCustomers(client); // 20 ids, 150 orders each
 */
export async function ensureHeavyCustomers(client: pg.ClientBase): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 1; i <= CUSTOMERS; i++) {
    const found = await client.query<{ id: string }>('SELECT id FROM customers WHERE email = $1', [EMAIL(i)]);
    if (found.rows[0] !== undefined) {
      ids.push(Number(found.rows[0].id));
      continue;
    }
    await client.query('BEGIN');
    const { rows } = await client.query<{ id: string }>('INSERT INTO customers (email, name) VALUES ($1, $2) RETURNING id', [
      EMAIL(i),
      `Heavy Buyer ${i}`,
    ]);
    const id = Number(rows[0]!.id);
    await client.query(ADD_ORDERS, [id, ORDERS_EACH]);
    await client.query('COMMIT');
    ids.push(id);
  }
  await client.query('ANALYZE orders, order_items');
  return ids;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[2];
  if (url === undefined) {
    console.error('usage: npx tsx bench/query-tuning/heavy-customers.ts <database-url>');
    process.exit(2);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    console.log((await ensureHeavyCustomers(client)).join(' '));
  } finally {
    await client.end();
  }
}
