import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchLoader } from '../../src/store/batch/loader.ts';
import type { ConnectionPool, QueryEvent } from '../../src/db/pool/pool.ts';
import { createProductStore, type Product, type ProductStore } from '../../src/store/products.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertProducts } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
let batched: ProductStore;
let plain: ProductStore;
let loader: BatchLoader<number, Product> | undefined;
const statements: string[] = [];
let ids: number[];

beforeAll(async () => {
  ({ pool, close } = await startTestPool({ onQuery: (e: QueryEvent) => void statements.push(e.statement.text) }));
  batched = createProductStore(pool, { batching: { maxBatch: 16, onLoader: (l) => (loader = l) } });
  plain = createProductStore(pool);
  ids = await insertProducts(pool, 40, (i) => `2024-02-01T00:00:${String(i).padStart(2, '0')}Z`, 'batching');
});
afterAll(() => close?.());

describe('product store with batched gets', () => {
  it('answers concurrent gets, duplicates and missing ids included, exactly as one get each would', async () => {
    const asked = [...ids, ids[0]!, ids[1]!, 999_999_999];
    const expected = await Promise.all(asked.map((id) => plain.get(TEST, id)));
    statements.length = 0;
    const got = await Promise.all(asked.map((id) => batched.get(TEST, id)));
    expect(got).toEqual(expected);
    expect(got.at(-1)).toBeUndefined();
    // 43 gets, at most 16 ids a statement: 3 statements instead of 43.
    expect(statements).toHaveLength(3);
    expect(statements.every((s) => s.includes('= ANY($1::bigint[])'))).toBe(true);
    expect({ loads: loader?.loads, batches: loader?.batches }).toEqual({ loads: 43, batches: 3 });
  });

  it('sends a lone get as the single-row statement', async () => {
    statements.length = 0;
    expect((await batched.get(TEST, ids[5]!))?.id).toBe(ids[5]);
    expect(statements).toEqual([expect.stringContaining('WHERE id = $1')]);
  });

  it('reads after the get was asked: a committed update is seen by the next get', async () => {
    const id = ids[7]!;
    await pool.query(TEST, { text: 'UPDATE products SET stock = 3 WHERE id = $1', values: [id] });
    const [a, b] = await Promise.all([batched.get(TEST, id), batched.get(TEST, ids[8]!)]);
    expect(a?.stock).toBe(3);
    expect(b?.id).toBe(ids[8]);
  });
});
