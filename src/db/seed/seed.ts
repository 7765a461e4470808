/**
 * Fills the store with generated but plausible data, for demos, load tests
 * and query-plan measurements.
 *
 * Rows are generated inside Postgres (`INSERT ... SELECT ... FROM
 * generate_series`) in batches: no row crosses the network, which loads a
 * hundred thousand products and a few hundred thousand order lines in
 * seconds, and the batch boundaries give progress to report. Each order's
 * lines and total are built in the same statement, so `total_cents` always
 * equals the sum of its lines.
 */
import type pg from 'pg';
import type { Logger } from '../../log/logger.ts';
import { ADVISORY_LOCKS } from '../advisory-locks.ts';
import { ADJECTIVES, BRANDS, CATEGORIES, FIRST_NAMES, LAST_NAMES } from './catalogue.ts';

/**
 * Rows to add per table.
 *
 * @example
 * const counts: SeedCounts = { products: 100_000, customers: 10_000, orders: 200_000 };
 */
export interface SeedCounts {
  products: number;
  customers: number;
  orders: number;
}

/** A table the seeder fills, in the order it fills them. */
export type SeedTable = keyof SeedCounts;

/**
 * One progress report.
 *
 * @example
 * const onProgress = ({ table, done, total }: SeedProgress) => bar.update(done);
 */
export interface SeedProgress {
  table: SeedTable;
  /** Rows of `table` inserted so far by this run. */
  done: number;
  total: number;
}

/**
 * How to seed.
 *
 * @example
 * await seedStore(client, counts, { reset: true, batchSize: 5_000, onProgress });
 */
export interface SeedOptions {
  /** Empty every store table (and restart ids) first. */
  reset?: boolean;
  /** Rows per INSERT statement; progress is reported after each. Default 10 000. */
  batchSize?: number;
  /** Called once with `done: 0` per table, then after every batch. */
  onProgress?: (progress: SeedProgress) => void;
}

/**
 * What `seedDemoIfEmpty` loads: small enough to take well under a second.
 *
 * @example
 * await seedStore(client, DEMO_COUNTS);
 */
export const DEMO_COUNTS: Readonly<SeedCounts> = Object.freeze({ products: 200, customers: 50, orders: 300 });

const DEFAULT_BATCH = 10_000;

/**
 * Adds `counts` rows of generated data to the store tables. Statements run on
 * `client` as they are: wrap the call in a transaction to make it all-or-nothing,
 * or leave it in autocommit so a large run commits batch by batch.
 * Orders need at least one product and one customer, existing or added here.
 *
 * @example
 * await seedStore(client, { products: 100_000, customers: 10_000, orders: 200_000 }, {
 *   reset: true,
 *   onProgress: ({ table, done, total }) => console.log(table, done, '/', total),
 * });
 */
export async function seedStore(client: pg.ClientBase, counts: SeedCounts, options: SeedOptions = {}): Promise<void> {
  for (const table of ['products', 'customers', 'orders'] as const) {
    if (!Number.isSafeInteger(counts[table]) || counts[table] < 0) {
      throw new RangeError(`${table} must be a whole number ≥ 0, got ${counts[table]}`);
    }
  }
  // The generators' row estimates are wild (a set-returning function per
  // order counts as 1000 rows), which makes the planner JIT-compile every
  // batch: about half a second each, more than the work itself.
  const jit = await client.query<{ jit: string }>("SELECT current_setting('jit') AS jit");
  await client.query("SELECT set_config('jit', 'off', false)");
  try {
    await generate(client, counts, options);
  } finally {
    // In a failed transaction this cannot run, but the rollback restores it.
    await client.query("SELECT set_config('jit', $1, false)", [jit.rows[0]?.jit ?? 'on']).catch(() => undefined);
  }
}

async function generate(client: pg.ClientBase, counts: SeedCounts, options: SeedOptions): Promise<void> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const report = options.onProgress ?? (() => undefined);

  if (options.reset === true) {
    await client.query('TRUNCATE idempotency_keys, order_items, orders, customers, products RESTART IDENTITY CASCADE');
  }

  await inBatches('products', counts.products, batchSize, report, await nextNumber(client, 'products'), (first, size, numberBase) =>
    client.query(INSERT_PRODUCTS, [
      numberBase,
      first,
      size,
      counts.products,
      CATEGORIES.map((c) => c.name),
      CATEGORIES.map((c) => c.code),
      CATEGORIES.map((c) => [...c.nouns]),
      CATEGORIES.map((c) => c.basePriceCents),
      ADJECTIVES,
      BRANDS,
    ]),
  );
  await inBatches('customers', counts.customers, batchSize, report, await nextNumber(client, 'customers'), (first, size, numberBase) =>
    client.query(INSERT_CUSTOMERS, [numberBase, first, size, counts.customers, FIRST_NAMES, LAST_NAMES]),
  );

  if (counts.orders > 0) await assertOrderable(client);
  await inBatches('orders', counts.orders, batchSize, report, 0, (first, size) =>
    client.query(INSERT_ORDERS, [first, size, counts.orders]),
  );

  // Fresh statistics, so the first queries after a large load get good plans.
  await client.query('ANALYZE products, customers, orders, order_items');
}

/**
 * Loads {@link DEMO_COUNTS} when `products` is empty, in one transaction under
 * an advisory lock, so instances starting together load it once. Returns
 * whether it seeded.
 *
 * @example
 * if (config.seedDemo) await seedDemoIfEmpty(client, logger);
 */
export async function seedDemoIfEmpty(client: pg.ClientBase, logger: Logger): Promise<boolean> {
  const log = logger.child({ component: 'seed' });
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...ADVISORY_LOCKS.demoSeed]);
    const found = await client.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM products) AS any');
    if (found.rows[0]?.any === true) {
      await client.query('ROLLBACK');
      log.debug('products exist; demo data not loaded');
      return false;
    }
    await seedStore(client, DEMO_COUNTS);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  log.info({ ...DEMO_COUNTS }, 'loaded demo data into the empty store');
  return true;
}

async function inBatches(
  table: SeedTable,
  total: number,
  batchSize: number,
  report: (progress: SeedProgress) => void,
  numberBase: number,
  insert: (first: number, size: number, numberBase: number) => Promise<unknown>,
): Promise<void> {
  if (total === 0) return;
  report({ table, done: 0, total });
  for (let done = 0; done < total;) {
    const size = Math.min(batchSize, total - done);
    await insert(done, size, numberBase);
    done += size;
    report({ table, done, total });
  }
}

// SKUs and emails carry a number that must not repeat across runs. Identity
// values only grow, so numbering after the highest id keeps them unique.
async function nextNumber(client: pg.ClientBase, table: 'products' | 'customers'): Promise<number> {
  const result = await client.query<{ max: string }>(`SELECT coalesce(max(id), 0) AS max FROM ${table}`);
  return Number(result.rows[0]?.max ?? 0);
}

async function assertOrderable(client: pg.ClientBase): Promise<void> {
  const result = await client.query<{ products: boolean; customers: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM products) AS products, EXISTS (SELECT 1 FROM customers) AS customers',
  );
  const row = result.rows[0];
  if (row?.products !== true || row.customers !== true) {
    throw new Error('Cannot generate orders: the store needs at least one product and one customer');
  }
}

// Parameters shared by the generators: $1 numbering base, $2 first row index
// in this run (0-based), $3 rows in this batch, $4 rows in the whole run.
// Timestamps advance with the row index, so ids follow time as they would in
// a real store, while each row still gets a random moment in its slice.

const INSERT_PRODUCTS = `
  WITH picks AS MATERIALIZED (
    SELECT i,
           1 + floor(random() * cardinality($5::text[]))::int AS c,
           1 + floor(random() * array_length($7::text[][], 2))::int AS noun,
           1 + floor(random() * cardinality($9::text[]))::int AS adjective,
           1 + floor(random() * cardinality($10::text[]))::int AS brand,
           random() AS price_r,
           random() AS stock_r,
           random() < 0.04 AS sold_out,
           now() - interval '365 days' * (1 - (i + random()) / $4::int) AS created_at
    FROM generate_series($2::int, $2::int + $3::int - 1) AS i
  )
  INSERT INTO products (sku, name, category, price_cents, stock, created_at)
  SELECT ($6::text[])[c] || '-' || lpad(($1::bigint + i + 1)::text, 7, '0'),
         ($10::text[])[brand] || ' ' || ($9::text[])[adjective] || ' ' || ($7::text[][])[c][noun],
         ($5::text[])[c],
         -- a long tail of cheap items, a few dear ones; prices end in .99
         greatest(99, round(($8::int[])[c] * (0.25 + 2.75 * price_r ^ 2) / 100) * 100 - 1)::int,
         CASE WHEN sold_out THEN 0 ELSE 1 + floor(stock_r ^ 2 * 499)::int END,
         created_at
  FROM picks
  ORDER BY i`;

const INSERT_CUSTOMERS = `
  WITH picks AS MATERIALIZED (
    SELECT i,
           ($5::text[])[1 + floor(random() * cardinality($5::text[]))::int] AS first_name,
           ($6::text[])[1 + floor(random() * cardinality($6::text[]))::int] AS last_name,
           now() - interval '365 days' * (1 - (i + random()) / $4::int) AS created_at
    FROM generate_series($2::int, $2::int + $3::int - 1) AS i
  )
  INSERT INTO customers (email, name, created_at)
  SELECT lower(first_name || '.' || last_name) || '.' || ($1::bigint + i + 1) || '@example.com',
         first_name || ' ' || last_name,
         created_at
  FROM picks
  ORDER BY i`;

// Order ids are drawn from the identity sequence up front so that lines and
// totals can be computed before either table is written. An order's lines
// are products first, first+step, ... (mod n) with step ≤ (n-1)/4, so its up
// to five products are distinct without a retry loop; squaring the random
// start makes some products sell far more than others, as in a real store.
// $1 first row index, $2 rows in this batch, $3 rows in the whole run.
const INSERT_ORDERS = `
  WITH c AS MATERIALIZED (
    SELECT array_agg(id) AS ids FROM customers
  ),
  p AS MATERIALIZED (
    SELECT array_agg(id ORDER BY id) AS ids, array_agg(price_cents ORDER BY id) AS prices, count(*)::int AS n
    FROM products
  ),
  o AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('orders', 'id')) AS id,
           c.ids[1 + floor(random() * cardinality(c.ids))::int] AS customer_id,
           now() - interval '90 days' * (1 - (i + random()) / $3::int) AS created_at,
           least(1 + floor(random() * 5)::int, p.n) AS lines,
           floor(p.n * random() ^ 2)::int AS first,
           1 + floor(random() * greatest(1, (p.n - 1) / 4))::int AS step
    FROM generate_series($1::int, $1::int + $2::int - 1) AS i, c, p
  ),
  items AS MATERIALIZED (
    SELECT o.id AS order_id,
           p.ids[1 + (o.first + k * o.step) % p.n] AS product_id,
           1 + floor(random() ^ 3 * 4)::int AS quantity,
           p.prices[1 + (o.first + k * o.step) % p.n] AS unit_price_cents
    FROM o CROSS JOIN p CROSS JOIN LATERAL generate_series(0, o.lines - 1) AS k
  ),
  new_orders AS (
    INSERT INTO orders (id, customer_id, total_cents, created_at) OVERRIDING SYSTEM VALUE
    SELECT o.id, o.customer_id, t.total, o.created_at
    FROM o JOIN (
      SELECT order_id, sum(quantity::bigint * unit_price_cents) AS total FROM items GROUP BY order_id
    ) AS t ON t.order_id = o.id
    ORDER BY o.id
  )
  INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents)
  SELECT order_id, product_id, quantity, unit_price_cents FROM items`;
