import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertCustomer, insertOrder, insertProduct } from '../helpers/store-fixtures.ts';
import { parseServerTiming } from '../profiler/harness.ts';

// Statements are charged to their request explicitly: the route passes its
// Context (src/context/context.ts) first to the store, which runs every
// statement under it. A route that passed another context (a background
// one, say) would run statements its Server-Timing, N+1 check and slow log
// never see. So: for every route that reads or writes, one request at a time, the
// statements the pool ran are exactly the ones the response was charged.

let app: TestApp;
let productId: number;
let customerId: number;

beforeAll(async () => {
  app = await startTestApp({ env: { CACHE_ENABLED: 'false' } });
  productId = await insertProduct(app.pool, { stock: 100 });
  customerId = await insertCustomer(app.pool);
  await insertOrder(app.pool, customerId, [{ productId, quantity: 1, unitPriceCents: 100 }]);
});
afterAll(() => app?.close());

const routes: [string, () => RequestInit | undefined, () => string][] = [
  ['GET /api/products/:id', () => undefined, () => `/api/products/${productId}`],
  ['GET /api/products/:id (missing)', () => undefined, () => '/api/products/999999999'],
  ['GET /api/products', () => undefined, () => '/api/products?limit=5'],
  ['GET /api/customers/:id', () => undefined, () => `/api/customers/${customerId}`],
  ['GET /api/customers/:id/orders', () => undefined, () => `/api/customers/${customerId}/orders?limit=5`],
  ['GET /api/customers/:id/orders (missing)', () => undefined, () => '/api/customers/999999999/orders'],
  ['GET /api/reports/top-products', () => undefined, () => '/api/reports/top-products?days=30&limit=5'],
  [
    'POST /api/orders',
    () => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `acct-${Date.now()}` },
      body: JSON.stringify({ customerId, items: [{ productId, quantity: 1 }] }),
    }),
    () => '/api/orders',
  ],
];

describe('every statement a route runs is charged to its request', () => {
  it.each(routes)('%s', async (_name, init, path) => {
    const before = app.queryCount();
    const res = await fetch(`${app.baseUrl}${path()}`, init());
    await res.arrayBuffer();
    const ran = app.statements().slice(before);
    expect(ran.length).toBeGreaterThan(0);
    expect(parseServerTiming(res.headers.get('server-timing')).queries, ran.join('\n')).toBe(ran.length);
  });
});
