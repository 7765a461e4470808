import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem, request, type Answer } from '../../helpers/http.ts';
import { insertCustomer, insertOrder, insertProduct } from '../../helpers/store-fixtures.ts';

let app: TestApp;
let url: (path: string) => string;
let customerId: number;
let orderIds: number[]; // newest first
let hammer: number;
let nails: number;

beforeAll(async () => {
  app = await startTestApp();
  url = (path) => `${app.baseUrl}${path}`;
  customerId = await insertCustomer(app.pool, { name: 'Ada', email: 'ada@example.test' });
  hammer = await insertProduct(app.pool, { name: 'Hammer', priceCents: 1500 });
  nails = await insertProduct(app.pool, { name: 'Nails (100)', priceCents: 300 });
  const created: number[] = [];
  // Five orders sharing timestamps pairwise, to exercise the id tie-break.
  for (const at of [
    '2024-05-01T12:00:00.000001Z',
    '2024-05-01T12:00:00.000001Z',
    '2024-05-02T08:00:00Z',
    '2024-05-02T08:00:00Z',
    '2024-05-03T00:00:00Z',
  ]) {
    created.push(
      await insertOrder(
        app.pool,
        customerId,
        [
          { productId: hammer, quantity: 1, unitPriceCents: 1500 },
          { productId: nails, quantity: 3, unitPriceCents: 300 },
        ],
        at,
      ),
    );
  }
  orderIds = [created[4]!, created[3]!, created[2]!, created[1]!, created[0]!];
});
afterAll(() => app?.close());

describe('GET /api/customers/:id', () => {
  it('returns the customer', async () => {
    const res = await request(url(`/api/customers/${customerId}`));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: customerId, name: 'Ada', email: 'ada@example.test', createdAt: expect.stringMatching(/Z$/) });
  });

  it('is 404 for an unknown customer and 400 for a malformed id', async () => {
    expectProblem(await request(url('/api/customers/424242')), 404, 'NOT_FOUND');
    expect(expectProblem(await request(url('/api/customers/x')), 400, 'VALIDATION_FAILED').field).toBe('params.id');
  });
});

describe('GET /api/customers/:id/orders', () => {
  it('returns orders newest first with their items and product names', async () => {
    const res = await request(url(`/api/customers/${customerId}/orders`));
    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    expect(res.body.items.map((o: { id: number }) => o.id)).toEqual(orderIds);
    expect(res.body.items[0]).toEqual({
      id: orderIds[0],
      customerId,
      totalCents: 2400,
      createdAt: '2024-05-03T00:00:00.000000Z',
      items: [
        { productId: hammer, name: 'Hammer', quantity: 1, unitPriceCents: 1500 },
        { productId: nails, name: 'Nails (100)', quantity: 3, unitPriceCents: 300 },
      ].sort((a, b) => a.productId - b.productId),
    });
  });

  it('pages by cursor without skipping or repeating, with a Link header', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const res: Answer = await request(url(`/api/customers/${customerId}/orders?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`));
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((o: { id: number }) => o.id));
      cursor = res.body.nextCursor;
      if (cursor !== null) expect(res.headers.get('link')).toContain(`cursor=${cursor}>; rel="next"`);
    } while (cursor !== null);
    expect(seen).toEqual(orderIds);
  });

  it('runs at most 3 queries per page, whatever the page size', async () => {
    for (const limit of [1, 5, 100]) {
      const before = app.queryCount();
      const res = await request(url(`/api/customers/${customerId}/orders?limit=${limit}`));
      expect(res.status).toBe(200);
      expect(app.queryCount() - before).toBeLessThanOrEqual(3);
    }
  });

  it('is an empty page for a customer without orders, and 404 for an unknown customer', async () => {
    const idle = await insertCustomer(app.pool);
    expect((await request(url(`/api/customers/${idle}/orders`))).body).toEqual({ items: [], nextCursor: null });
    expectProblem(await request(url('/api/customers/424242/orders')), 404, 'NOT_FOUND');
  });

  it("is 400 BAD_CURSOR for another customer's cursor or a products cursor", async () => {
    const first = await request(url(`/api/customers/${customerId}/orders?limit=1`));
    const other = await insertCustomer(app.pool);
    expectProblem(await request(url(`/api/customers/${other}/orders?cursor=${first.body.nextCursor}`)), 400, 'BAD_CURSOR');
    await insertProduct(app.pool);
    await insertProduct(app.pool);
    const products = await request(url('/api/products?limit=1'));
    expectProblem(await request(url(`/api/customers/${customerId}/orders?cursor=${products.body.nextCursor}`)), 400, 'BAD_CURSOR');
  });

  it.each(['0', '101', 'abc'])('is 400 VALIDATION_FAILED for limit=%s', async (limit) => {
    const problem = expectProblem(await request(url(`/api/customers/${customerId}/orders?limit=${limit}`)), 400, 'VALIDATION_FAILED');
    expect(problem.field).toBe('query.limit');
  });
});
