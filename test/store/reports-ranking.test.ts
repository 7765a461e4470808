/**
 * The top-products statement ranks on units alone and adds revenue for the
 * page's rows afterwards (see src/store/reports.ts). This checks the result
 * against a ranking computed here from the same orders: many ties, products
 * sold both inside and outside the window, pages of several sizes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionPool } from '../../src/db/pool/pool.ts';
import { createReportStore, type ReportStore, type TopProduct } from '../../src/store/reports.ts';
import { startTestPool } from '../helpers/app.ts';
import { insertCustomer, insertOrder, insertProduct } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

const DAY_MS = 86_400_000;
const WINDOW_DAYS = 30;

let pool: ConnectionPool;
let close: () => Promise<void>;
let reports: ReportStore;
let expected: TopProduct[];
/** Products that also sold before the window: their revenue must leave those sales out. */
const soldBefore = new Set<number>();

/** A small deterministic generator, so a failure replays exactly. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

beforeAll(async () => {
  ({ pool, close } = await startTestPool());
  reports = createReportStore(pool);
  const customer = await insertCustomer(pool);
  const products: { id: number; sku: string; name: string }[] = [];
  for (let i = 0; i < 40; i++) {
    const name = `Ranked ${i}`;
    const sku = `RANK-${i}`;
    products.push({ id: await insertProduct(pool, { name, sku }), sku, name });
  }
  const random = lcg(42);
  const totals = new Map<number, { units: number; revenueCents: number }>();
  for (let o = 0; o < 250; o++) {
    // Whole days plus half a day keep every order well clear of the window's edge.
    const daysAgo = Math.floor(random() * 2 * WINDOW_DAYS) + 0.5;
    const first = Math.floor(random() * products.length);
    const count = 1 + Math.floor(random() * 3);
    const lines = Array.from({ length: count }, (_, k) => ({
      productId: products[(first + k * 7) % products.length]!.id,
      quantity: 1 + Math.floor(random() * 3),
      unitPriceCents: 100 + Math.floor(random() * 900),
    }));
    await insertOrder(pool, customer, lines, new Date(Date.now() - daysAgo * DAY_MS).toISOString());
    if (daysAgo >= WINDOW_DAYS) {
      for (const line of lines) soldBefore.add(line.productId);
      continue;
    }
    for (const line of lines) {
      const t = totals.get(line.productId) ?? { units: 0, revenueCents: 0 };
      t.units += line.quantity;
      t.revenueCents += line.quantity * line.unitPriceCents;
      totals.set(line.productId, t);
    }
  }
  expected = products
    .filter((p) => totals.has(p.id))
    .map((p) => ({ productId: p.id, sku: p.sku, name: p.name, ...totals.get(p.id)! }))
    .sort((a, b) => b.units - a.units || a.productId - b.productId);
});
afterAll(() => close?.());

describe('top-products ranking', () => {
  it('has ties to break, and products sold outside the window too', () => {
    const units = expected.map((e) => e.units);
    expect(new Set(units).size).toBeLessThan(units.length);
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.filter((e) => soldBefore.has(e.productId)).length).toBeGreaterThan(10);
  });

  it.each([1, 3, 7, 100])('matches the reference ranking, revenue included, walked %i at a time', async (limit) => {
    const seen: TopProduct[] = [];
    let page = await reports.topProducts(TEST, { days: WINDOW_DAYS, limit });
    seen.push(...page.items);
    while (page.next !== null) {
      page = await reports.topProducts(TEST, { days: WINDOW_DAYS, limit, after: page.next });
      expect(page.items.length).toBeGreaterThan(0);
      seen.push(...page.items);
    }
    expect(seen).toEqual(expected);
  });
});
