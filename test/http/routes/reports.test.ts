import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem, request, type Answer } from '../../helpers/http.ts';
import { insertCustomer, insertOrder, insertProduct } from '../../helpers/store-fixtures.ts';

let app: TestApp;
let url: (path: string) => string;
const p: number[] = [];

beforeAll(async () => {
  app = await startTestApp();
  url = (path) => `${app.baseUrl}${path}`;
  const customer = await insertCustomer(app.pool);
  for (const name of ['Alpha', 'Bravo', 'Charlie', 'Delta']) p.push(await insertProduct(app.pool, { name }));
  const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
  // Within 7 days: Alpha 5 units, Bravo 5 (tie, higher id), Charlie 2.
  await insertOrder(
    app.pool,
    customer,
    [
      { productId: p[0]!, quantity: 3, unitPriceCents: 100 },
      { productId: p[2]!, quantity: 2, unitPriceCents: 50 },
    ],
    daysAgo(1),
  );
  await insertOrder(app.pool, customer, [{ productId: p[0]!, quantity: 2, unitPriceCents: 120 }], daysAgo(2));
  await insertOrder(app.pool, customer, [{ productId: p[1]!, quantity: 5, unitPriceCents: 10 }], daysAgo(6));
  // Only in the 30-day window: Delta 100 units.
  await insertOrder(app.pool, customer, [{ productId: p[3]!, quantity: 100, unitPriceCents: 1 }], daysAgo(20));
  // Outside every window asked for below.
  await insertOrder(app.pool, customer, [{ productId: p[2]!, quantity: 1000, unitPriceCents: 1 }], daysAgo(400));
});
afterAll(() => app?.close());

describe('GET /api/reports/top-products', () => {
  it('ranks products by units sold in the window, ties by product id, with revenue', async () => {
    const res = await request(url('/api/reports/top-products?days=7'));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      items: [
        { productId: p[0], sku: expect.any(String), name: 'Alpha', units: 5, revenueCents: 3 * 100 + 2 * 120 },
        { productId: p[1], sku: expect.any(String), name: 'Bravo', units: 5, revenueCents: 50 },
        { productId: p[2], sku: expect.any(String), name: 'Charlie', units: 2, revenueCents: 100 },
      ],
      nextCursor: null,
    });
  });

  it('defaults to 30 days', async () => {
    const res = await request(url('/api/reports/top-products'));
    expect(res.body.items.map((i: { name: string }) => i.name)).toEqual(['Delta', 'Alpha', 'Bravo', 'Charlie']);
  });

  it('pages through the ranking by cursor', async () => {
    const names: string[] = [];
    let next: string | null = '/api/reports/top-products?days=30&limit=1';
    while (next !== null) {
      const res: Answer = await request(url(next));
      expect(res.status).toBe(200);
      names.push(...res.body.items.map((i: { name: string }) => i.name));
      const link = res.headers.get('link');
      next = link === null ? null : link.slice(1, link.indexOf('>'));
    }
    expect(names).toEqual(['Delta', 'Alpha', 'Bravo', 'Charlie']);
  });

  it('keeps the window a cursor was issued for, and refuses it for another window', async () => {
    const first = await request(url('/api/reports/top-products?days=7&limit=1'));
    expectProblem(await request(url(`/api/reports/top-products?days=30&limit=1&cursor=${first.body.nextCursor}`)), 400, 'BAD_CURSOR');
    const second = await request(url(`/api/reports/top-products?days=7&limit=1&cursor=${first.body.nextCursor}`));
    expect(second.body.items[0].name).toBe('Bravo');
  });

  it.each([
    ['days=0', 'query.days'],
    ['days=366', 'query.days'],
    ['days=1.5', 'query.days'],
    ['days=week', 'query.days'],
    ['days=14 (not one of 1, 7, 30, 90, 365)', 'query.days'],
    ['days=364', 'query.days'],
    ['limit=0', 'query.limit'],
    ['limit=101', 'query.limit'],
  ])('is 400 VALIDATION_FAILED for %s', async (query, field) => {
    expect(expectProblem(await request(url(`/api/reports/top-products?${query.split(' ')[0]}`)), 400, 'VALIDATION_FAILED').field).toBe(
      field,
    );
  });
});

describe('top-products parameters the cache can serve', () => {
  const ranked = (path: string) => request(url(path)).then((res) => res.body.items.map((i: { name: string }) => i.name));
  const runs = () => app.statements().filter((text) => text.includes('WITH ranked AS')).length;

  it('answers every limit up to a bucket (10, 25, 50, 100) from one query per window', async () => {
    const before = runs();
    expect(await ranked('/api/reports/top-products?days=90&limit=3')).toEqual(['Delta', 'Alpha', 'Bravo']);
    expect(await ranked('/api/reports/top-products?days=90&limit=7')).toEqual(['Delta', 'Alpha', 'Bravo', 'Charlie']);
    expect(await ranked('/api/reports/top-products?days=90&limit=10')).toEqual(['Delta', 'Alpha', 'Bravo', 'Charlie']);
    expect(runs() - before).toBe(1);
    await ranked('/api/reports/top-products?days=90&limit=11');
    expect(runs() - before).toBe(2);
  });

  it('still cuts the page at the limit asked for, with a cursor to the rest', async () => {
    const first = await request(url('/api/reports/top-products?days=365&limit=2'));
    expect(first.body.items.map((i: { name: string }) => i.name)).toEqual(['Delta', 'Alpha']);
    const rest = await request(url(`/api/reports/top-products?days=365&limit=2&cursor=${first.body.nextCursor}`));
    expect(rest.body.items.map((i: { name: string }) => i.name)).toEqual(['Bravo', 'Charlie']);
    expect(rest.body.nextCursor).toBeNull();
  });
});
