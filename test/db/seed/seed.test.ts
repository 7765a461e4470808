/**
 * Generated store data has the requested size and holds together: totals
 * match their lines, stock is never negative, timestamps fall in their
 * windows; the demo set is loaded only into an empty store, and only once.
 */
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_COUNTS, seedDemoIfEmpty, seedStore, type SeedProgress } from '../../../src/db/seed/seed.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';

const silent = createLogger('silent');
let db: TestDatabase;
let client: pg.Client;

async function counts(): Promise<{ products: number; customers: number; orders: number; items: number }> {
  const result = await client.query(`
    SELECT (SELECT count(*) FROM products)::int AS products,
           (SELECT count(*) FROM customers)::int AS customers,
           (SELECT count(*) FROM orders)::int AS orders,
           (SELECT count(*) FROM order_items)::int AS items`);
  return result.rows[0];
}

async function one<T = unknown>(sql: string): Promise<T> {
  return Object.values((await client.query(sql)).rows[0] as Record<string, unknown>)[0] as T;
}

beforeAll(async () => {
  db = await createTestDatabase();
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

beforeEach(async () => {
  await client.query('TRUNCATE idempotency_keys, order_items, orders, customers, products RESTART IDENTITY CASCADE');
});

describe('seedStore', () => {
  it('inserts exactly the requested rows, in batches, reporting progress', async () => {
    const progress: SeedProgress[] = [];
    await seedStore(client, { products: 500, customers: 60, orders: 800 }, { batchSize: 200, onProgress: (p) => progress.push(p) });

    expect(await counts()).toMatchObject({ products: 500, customers: 60, orders: 800 });
    expect(progress.filter((p) => p.table === 'orders').map((p) => p.done)).toEqual([0, 200, 400, 600, 800]);
    expect(progress.filter((p) => p.table === 'products').map((p) => p.done)).toEqual([0, 200, 400, 500]);
    expect(progress.filter((p) => p.table === 'customers').map((p) => p.done)).toEqual([0, 60]);
    expect(progress.every((p) => p.total === { products: 500, customers: 60, orders: 800 }[p.table])).toBe(true);
  });

  it('generates orders whose totals equal the sum of their 1 to 5 distinct lines', async () => {
    await seedStore(client, { products: 300, customers: 40, orders: 1000 });

    const shape = await client.query(`
      SELECT count(*) FILTER (WHERE o.total_cents <> coalesce(l.sum, -1))::int AS wrong_totals,
             min(coalesce(l.lines, 0))::int AS min_lines,
             max(l.lines)::int AS max_lines
      FROM orders o
      LEFT JOIN (SELECT order_id, count(*) AS lines, sum(quantity::bigint * unit_price_cents) AS sum
                 FROM order_items GROUP BY order_id) l ON l.order_id = o.id`);
    expect(shape.rows[0]).toEqual({ wrong_totals: 0, min_lines: 1, max_lines: 5 });
    // Lines are priced at the product's price when ordered.
    expect(
      await one<number>(`SELECT count(*)::int FROM order_items i JOIN products p ON p.id = i.product_id
                         WHERE i.unit_price_cents <> p.price_cents`),
    ).toBe(0);
  });

  it('generates plausible products, customers and timestamps', async () => {
    await seedStore(client, { products: 600, customers: 50, orders: 400 });

    const products = await client.query(`
      SELECT count(DISTINCT category)::int AS categories,
             min(stock)::int AS min_stock, max(stock)::int AS max_stock,
             min(price_cents)::int AS min_price,
             count(*) FILTER (WHERE sku !~ '^[A-Z]{3}-[0-9]{7}$')::int AS odd_skus,
             count(*) FILTER (WHERE name !~ '^[A-Z].* .* ')::int AS odd_names,
             bool_and(created_at BETWEEN now() - interval '365 days' AND now()) AS past_year,
             (max(created_at) - min(created_at)) > interval '300 days' AS spread
      FROM products`);
    expect(products.rows[0]).toEqual({
      categories: 20,
      min_stock: 0,
      max_stock: expect.any(Number),
      min_price: expect.any(Number),
      odd_skus: 0,
      odd_names: 0,
      past_year: true,
      spread: true,
    });
    expect(products.rows[0].max_stock).toBeGreaterThan(50);
    expect(products.rows[0].min_price).toBeGreaterThan(0);

    expect(await one<number>(`SELECT count(*)::int FROM customers WHERE email !~ '^[a-z]+\\.[a-z]+\\.[0-9]+@example\\.com$'`)).toBe(0);
    const orders = await client.query(`
      SELECT bool_and(created_at BETWEEN now() - interval '90 days' AND now()) AS recent,
             (max(created_at) - min(created_at)) > interval '80 days' AS spread
      FROM orders`);
    expect(orders.rows[0]).toEqual({ recent: true, spread: true });
  });

  it('appends on a second run without clashing SKUs or emails, and --reset starts over', async () => {
    await seedStore(client, { products: 100, customers: 10, orders: 50 });
    await seedStore(client, { products: 100, customers: 10, orders: 50 });
    expect(await counts()).toMatchObject({ products: 200, customers: 20, orders: 100 });

    await seedStore(client, { products: 30, customers: 5, orders: 20 }, { reset: true });
    expect(await counts()).toMatchObject({ products: 30, customers: 5, orders: 20 });
    expect(await one<string>('SELECT min(id) FROM products')).toBe('1');
  });

  it('leaves the session as it found it', async () => {
    await client.query("SET jit = 'on'");
    await seedStore(client, { products: 10, customers: 1, orders: 1 });
    expect(await one<string>('SHOW jit')).toBe('on');
  });

  it('refuses to make orders without products or customers, and bad counts', async () => {
    await expect(seedStore(client, { products: 0, customers: 3, orders: 5 })).rejects.toThrow(/at least one product and one customer/);
    await expect(seedStore(client, { products: -1, customers: 0, orders: 0 })).rejects.toThrow(RangeError);
    expect(await one<number>('SELECT count(*)::int FROM orders')).toBe(0);
  });
});

describe('seedDemoIfEmpty', () => {
  it('loads the demo set into an empty store, once', async () => {
    expect(await seedDemoIfEmpty(client, silent)).toBe(true);
    const first = await counts();
    expect(first).toMatchObject(DEMO_COUNTS);

    expect(await seedDemoIfEmpty(client, silent)).toBe(false);
    expect(await counts()).toEqual(first);
  });

  it('leaves a store that already has products alone', async () => {
    await client.query(`INSERT INTO products (sku, name, category, price_cents, stock) VALUES ('OWN-1', 'Mine', 'Books', 100, 1)`);

    expect(await seedDemoIfEmpty(client, silent)).toBe(false);
    expect(await counts()).toEqual({ products: 1, customers: 0, orders: 0, items: 0 });
  });

  it('seeds once when two instances start at the same time', async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const results = await Promise.all([seedDemoIfEmpty(client, silent), seedDemoIfEmpty(other, silent)]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await counts()).toMatchObject(DEMO_COUNTS);
    } finally {
      await other.end();
    }
  });
});
