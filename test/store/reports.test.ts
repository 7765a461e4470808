import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool } from '../../src/db/pool/pool.ts';
import { createReportStore, type ReportStore } from '../../src/store/reports.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertCustomer, insertOrder, insertProduct } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let pool: ConnectionPool;
let close: () => Promise<void>;
let reports: ReportStore;
let customer: number;
beforeAll(async () => {
  ({ pool, close } = await startTestPool());
  reports = createReportStore(pool);
  customer = await insertCustomer(pool);
});
afterAll(() => close?.());

describe('report store', () => {
  it('pins the window end in the key, so later orders do not reshuffle later pages', async () => {
    const a = await insertProduct(pool);
    const b = await insertProduct(pool);
    await insertOrder(pool, customer, [{ productId: a, quantity: 3, unitPriceCents: 10 }]);
    await insertOrder(pool, customer, [{ productId: b, quantity: 2, unitPriceCents: 10 }]);

    const first = await reports.topProducts(TEST, { days: 1, limit: 1 });
    expect(first.items.map((i) => i.productId)).toEqual([a]);
    expect(first.next).toEqual({ until: expect.stringMatching(/Z$/), units: 3, productId: a });

    // Sold after the first page was computed: outside the pinned window.
    await insertOrder(pool, customer, [{ productId: b, quantity: 10, unitPriceCents: 10 }]);
    const second = await reports.topProducts(TEST, { days: 1, limit: 1, after: first.next! });
    expect(second.items).toEqual([{ productId: b, sku: expect.any(String), name: expect.any(String), units: 2, revenueCents: 20 }]);
    expect(second.next).toBeNull();

    // A fresh first page sees the new order.
    expect((await reports.topProducts(TEST, { days: 1, limit: 1 })).items[0]).toMatchObject({ productId: b, units: 12 });
  });

  it('computes revenue in 64-bit, without int4 overflow', async () => {
    const pricey = await insertProduct(pool);
    await insertOrder(pool, customer, [{ productId: pricey, quantity: 1000, unitPriceCents: 2_000_000_000 }]);
    const page = await reports.topProducts(TEST, { days: 1, limit: 100 });
    expect(page.items.find((i) => i.productId === pricey)?.revenueCents).toBe(2_000_000_000_000);
  });
});
