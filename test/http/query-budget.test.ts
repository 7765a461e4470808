import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { postJson } from '../helpers/http.ts';
import { insertCustomer, insertOrder, insertProduct } from '../helpers/store-fixtures.ts';

// Phase B as a client sees it: queries per request (Server-Timing), the
// cache in front of the catalogue and report, and HTTP revalidation.

let app: TestApp;
let customerId: number;
let productIds: number[];

/** The query count a response reports in `Server-Timing: db;dur=…;desc="<n> queries"`. */
function queriesOf(res: Response): number {
  const header = res.headers.get('server-timing') ?? '';
  const match = /db;dur=[\d.]+;desc="(\d+) quer(?:y|ies)"/.exec(header);
  if (match === null) throw new Error(`no db Server-Timing in ${JSON.stringify(header)}`);
  return Number(match[1]);
}

beforeAll(async () => {
  app = await startTestApp();
  customerId = await insertCustomer(app.pool);
  productIds = [];
  for (let i = 0; i < 5; i++) productIds.push(await insertProduct(app.pool, { stock: 10_000 }));
  // 120 orders of 3 items each: enough for a page of 100 with items on every order.
  for (let i = 0; i < 120; i++) {
    const lines = [0, 1, 2].map((k) => ({ productId: productIds[(i + k) % productIds.length]!, quantity: 1 + k, unitPriceCents: 100 }));
    await insertOrder(app.pool, customerId, lines, new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString());
  }
});

afterAll(() => app?.close());

describe('queries per request', () => {
  it.each([1, 20, 100])('GET /api/customers/:id/orders?limit=%i uses at most 3 queries, items and names included', async (limit) => {
    const res = await fetch(`${app.baseUrl}/api/customers/${customerId}/orders?limit=${limit}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { items: { name: string }[] }[] };
    expect(body.items).toHaveLength(limit);
    expect(body.items.every((o) => o.items.length === 3 && o.items.every((i) => i.name.length > 0))).toBe(true);
    expect(queriesOf(res)).toBeLessThanOrEqual(3);
  });

  it('sends Server-Timing on every API response, errors included', async () => {
    expect(queriesOf(await fetch(`${app.baseUrl}/api/customers/${customerId}`))).toBeGreaterThanOrEqual(1);
    expect(queriesOf(await fetch(`${app.baseUrl}/api/products/999999999`))).toBeGreaterThanOrEqual(0);
    const bad = await fetch(`${app.baseUrl}/api/products?limit=0`);
    expect(bad.status).toBe(400);
    expect(queriesOf(bad)).toBe(0);
  });
});

describe('the query cache, as wired', () => {
  it('serves a repeated top-products report from the cache (0 queries) until an order invalidates it', async () => {
    const url = `${app.baseUrl}/api/reports/top-products?days=365&limit=5`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    expect(queriesOf(first)).toBeGreaterThan(0);
    const firstBody = (await first.json()) as { items: { productId: number; units: number }[] };
    for (let i = 0; i < 3; i++) expect(queriesOf(await fetch(url))).toBe(0);

    const order = await postJson(`${app.baseUrl}/api/orders`, { customerId, items: [{ productId: productIds[0], quantity: 500 }] });
    expect(order.status).toBe(201);

    const after = await fetch(url);
    expect(queriesOf(after)).toBeGreaterThan(0);
    const afterBody = (await after.json()) as { items: { productId: number; units: number }[] };
    const unitsOf = (b: typeof firstBody) => b.items.find((i) => i.productId === productIds[0])?.units ?? 0;
    expect(unitsOf(afterBody)).toBe(unitsOf(firstBody) + 500);
  });

  it('never shows stale stock to a client after its own order', async () => {
    const id = productIds[1]!;
    // Product by id is admitted on its CACHE_ADMISSION_THRESHOLD-th read (src/cache/admission.ts), and served from the cache after.
    for (let i = 1; i < loadConfig({}).cache.admissionThreshold; i++)
      await (await fetch(`${app.baseUrl}/api/products/${id}`)).arrayBuffer();
    const before = (await (await fetch(`${app.baseUrl}/api/products/${id}`)).json()) as { stock: number };
    const cached = await fetch(`${app.baseUrl}/api/products/${id}`);
    expect(queriesOf(cached)).toBe(0);
    const order = await postJson(`${app.baseUrl}/api/orders`, { customerId, items: [{ productId: id, quantity: 7 }] });
    expect(order.status).toBe(201);
    const after = (await (await fetch(`${app.baseUrl}/api/products/${id}`)).json()) as { stock: number };
    expect(after.stock).toBe(before.stock - 7);
    const listed = (await (await fetch(`${app.baseUrl}/api/products?limit=100`)).json()) as { items: { id: number; stock: number }[] };
    expect(listed.items.find((p) => p.id === id)?.stock).toBe(before.stock - 7);
  });
});

describe('HTTP revalidation', () => {
  it('sends an ETag on detail and list answers and answers a matching If-None-Match with 304', async () => {
    for (const path of [`/api/products/${productIds[2]}`, '/api/products?limit=3', `/api/customers/${customerId}/orders?limit=2`]) {
      const first = await fetch(`${app.baseUrl}${path}`);
      const tag = first.headers.get('etag');
      expect(tag, path).toMatch(/^W\/"/);
      const again = await fetch(`${app.baseUrl}${path}`, { headers: { 'if-none-match': tag! } });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
      const changed = await fetch(`${app.baseUrl}${path}`, { headers: { 'if-none-match': 'W/"something-else"' } });
      expect(changed.status, path).toBe(200);
    }
  });
});
