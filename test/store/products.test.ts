import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool } from '../../src/db/pool/pool.ts';
import { createProductStore, type ProductStore } from '../../src/store/products.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertProduct, insertProducts } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
let products: ProductStore;
beforeAll(async () => {
  ({ pool, close } = await startTestPool());
  products = createProductStore(pool);
});
afterAll(() => close?.());

describe('product store', () => {
  it('gets a product as a plain object with numeric id and microsecond timestamp', async () => {
    const id = await insertProduct(pool, { name: 'Level', sku: 'LVL-1', createdAt: '2024-06-01T12:34:56.789012+02' });
    expect(await products.get(TEST, id)).toEqual({
      id,
      sku: 'LVL-1',
      name: 'Level',
      category: 'general',
      priceCents: 1000,
      stock: 100,
      createdAt: '2024-06-01T10:34:56.789012Z',
    });
    expect(await products.get(TEST, id + 1000)).toBeUndefined();
  });

  it('pages by (createdAt, id) without losing rows one microsecond apart', async () => {
    const category = 'micro';
    const ids = await insertProducts(pool, 6, (i) => `2024-01-01T00:00:00.00000${i % 3}Z`, category);
    const walked: number[] = [];
    let after;
    do {
      const page = await products.list(TEST, { category, limit: 4, after });
      walked.push(...page.items.map((p) => p.id));
      after = page.next ?? undefined;
    } while (after !== undefined);
    const expected = ids
      .map((id, i) => ({ id, micros: i % 3 }))
      .sort((a, b) => b.micros - a.micros || b.id - a.id)
      .map((x) => x.id);
    expect(walked).toEqual(expected);
  });

  it('reports no next key on the last page, including an exactly full one', async () => {
    const category = 'exact';
    await insertProducts(pool, 3, () => '2024-01-01T00:00:00Z', category);
    const page = await products.list(TEST, { category, limit: 3 });
    expect(page.items).toHaveLength(3);
    expect(page.next).toBeNull();
  });

  it('combines the category and name filters', async () => {
    const both = await insertProduct(pool, { category: 'combo', name: 'Red Drill' });
    await insertProduct(pool, { category: 'combo', name: 'Blue Saw' });
    await insertProduct(pool, { category: 'other', name: 'Red Hammer' });
    const page = await products.list(TEST, { category: 'combo', q: 'red', limit: 10 });
    expect(page.items.map((p) => p.id)).toEqual([both]);
  });

  it('pages in index order: every list statement is answered by an index, with no sort', async () => {
    // An ORDER BY on the formatted created_at text (the output column of the
    // same name) once made every page scan and sort the whole table; with
    // sorting priced out, a plan that still sorts cannot be using the index.
    const seen: { text: string; values: readonly unknown[] }[] = [];
    const { pool: traced, close: closeTraced } = await startTestPool({
      onQuery: (event) => {
        if (event.statement.text.includes('FROM products WHERE'))
          seen.push({ text: event.statement.text, values: event.statement.values ?? [] });
      },
    });
    try {
      const store = createProductStore(traced);
      await store.list(TEST, { limit: 5 });
      await store.list(TEST, { category: 'general', limit: 5 });
      const statements = seen.splice(0);
      expect(statements.length).toBe(2);
      const lease = await traced.acquire(TEST);
      try {
        await lease.query({ text: 'SET enable_sort = off' });
        for (const statement of statements) {
          const { rows } = await lease.query<{ 'QUERY PLAN': unknown }>({
            text: `EXPLAIN (FORMAT JSON) ${statement.text}`,
            values: statement.values,
          });
          const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
          expect(plan, statement.text).not.toContain('"Node Type":"Sort"');
          expect(plan, statement.text).toMatch(/Index (Only )?Scan/);
        }
      } finally {
        lease.release(new Error('session setting changed'));
      }
    } finally {
      await closeTraced();
    }
  });
});
