import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool } from '../../src/db/pool/pool.ts';
import type { Statement } from '../../src/db/types.ts';
import { createProductStore } from '../../src/store/products.ts';
import { PRODUCT_SEARCH_INDEX, checkProductSearchIndex } from '../../src/store/search-index.ts';
import { startTestPool } from '../helpers/app.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
const statements: Statement[] = [];
beforeAll(async () => {
  ({ pool, close } = await startTestPool({ onQuery: (event) => void statements.push(event.statement) }));
  // Enough rows that a full scan is the dear plan, as on a real catalogue.
  await pool.query(TEST, {
    text: `INSERT INTO products (sku, name, category, price_cents, stock)
           SELECT 'SKU-' || i, 'Product ' || md5(i::text), 'general', 100, 1 FROM generate_series(1, 20000) i`,
  });
  await pool.query(TEST, {
    text: "INSERT INTO products (sku, name, category, price_cents, stock) VALUES ('RARE', 'Zebrawood Mallet', 'tools', 100, 1)",
  });
  await pool.query(TEST, { text: 'ANALYZE products' });
});
afterAll(() => close?.());

const warnings: string[] = [];
const logger = { warn: (_obj: object, msg: string) => void warnings.push(msg) };

describe('product search index', () => {
  it('serves a q search from the trigram index, not a full scan', async () => {
    const products = createProductStore(pool);
    statements.length = 0;
    const page = await products.list(TEST, { q: 'zebrawood', limit: 20 });
    expect(page.items.map((p) => p.sku)).toEqual(['RARE']);
    const search = statements.find((s) => /ILIKE/.test(s.text))!;
    const { rows } = await pool.query<{ 'QUERY PLAN': unknown }>(TEST, {
      text: `EXPLAIN (FORMAT JSON) ${search.text}`,
      values: search.values,
    });
    const plan = JSON.stringify(rows[0]!['QUERY PLAN']);
    expect(plan).toContain(PRODUCT_SEARCH_INDEX);
    expect(plan).not.toContain('"Seq Scan"');
  });

  it('is found at start-up without a warning, and warned about when missing', async () => {
    expect(await checkProductSearchIndex(pool, logger)).toBe(true);
    expect(warnings).toEqual([]);
    await pool.query(TEST, { text: `DROP INDEX ${PRODUCT_SEARCH_INDEX}` });
    expect(await checkProductSearchIndex(pool, logger)).toBe(false);
    expect(warnings[0]).toMatch(/no trigram index.*pg_trgm/);
  });
});
