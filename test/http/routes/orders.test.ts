import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotencyCaller } from '../../../src/http/routes/orders.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem, postJson, request } from '../../helpers/http.ts';
import { insertCustomer, insertProduct, stockOf } from '../../helpers/store-fixtures.ts';
import { TEST } from '../../helpers/context.ts';

let app: TestApp;
let ordersUrl: string;
let customerId: number;

beforeAll(async () => {
  app = await startTestApp();
  ordersUrl = `${app.baseUrl}/api/orders`;
  customerId = await insertCustomer(app.pool);
});
afterAll(() => app?.close());

async function ordersOf(customer: number): Promise<number> {
  const { rows } = await app.pool.query<{ n: string }>(TEST, {
    text: 'SELECT count(*) AS n FROM orders WHERE customer_id = $1',
    values: [customer],
  });
  return Number(rows[0]!.n);
}

describe('POST /api/orders', () => {
  it('places an order: 201 with lines by productId, prices from the catalogue, stock taken', async () => {
    const saw = await insertProduct(app.pool, { name: 'Saw', priceCents: 2500, stock: 10 });
    const glue = await insertProduct(app.pool, { name: 'Glue', priceCents: 450, stock: 3 });
    const res = await postJson(ordersUrl, {
      customerId,
      items: [
        { productId: glue, quantity: 3 },
        { productId: saw, quantity: 2 },
      ],
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(res.body).toEqual({
      id: expect.any(Number),
      customerId,
      totalCents: 2 * 2500 + 3 * 450,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      items: [
        { productId: saw, name: 'Saw', quantity: 2, unitPriceCents: 2500 },
        { productId: glue, name: 'Glue', quantity: 3, unitPriceCents: 450 },
      ],
    });
    expect(await stockOf(app.pool, saw)).toBe(8);
    expect(await stockOf(app.pool, glue)).toBe(0);
    // The customer's history shows the same order.
    const history = await request(`${app.baseUrl}/api/customers/${customerId}/orders?limit=1`);
    expect(history.body.items[0]).toEqual(res.body);
  });

  it('is 409 OUT_OF_STOCK, changing nothing, when any line cannot be served', async () => {
    const plenty = await insertProduct(app.pool, { stock: 10 });
    const scarce = await insertProduct(app.pool, { stock: 1 });
    const res = await postJson(ordersUrl, {
      customerId,
      items: [
        { productId: plenty, quantity: 1 },
        { productId: scarce, quantity: 2 },
      ],
    });
    const problem = expectProblem(res, 409, 'OUT_OF_STOCK');
    expect(problem).toMatchObject({ productId: scarce, requested: 2, available: 1 });
    expect(await stockOf(app.pool, plenty)).toBe(10);
    expect(await stockOf(app.pool, scarce)).toBe(1);
  });

  it('is 422 UNKNOWN_REFERENCE naming the field for an unknown customer or product, changing nothing', async () => {
    const product = await insertProduct(app.pool, { stock: 5 });
    const noCustomer = expectProblem(
      await postJson(ordersUrl, { customerId: 99999999, items: [{ productId: product, quantity: 1 }] }),
      422,
      'UNKNOWN_REFERENCE',
    );
    expect(noCustomer.field).toBe('body.customerId');
    const noProduct = expectProblem(
      await postJson(ordersUrl, {
        customerId,
        items: [
          { productId: product, quantity: 1 },
          { productId: 99999999, quantity: 1 },
        ],
      }),
      422,
      'UNKNOWN_REFERENCE',
    );
    expect(noProduct.field).toBe('body.items[1].productId');
    expect(await stockOf(app.pool, product)).toBe(5);
  });

  it('is 400 when a product appears twice', async () => {
    const product = await insertProduct(app.pool);
    const res = await postJson(ordersUrl, {
      customerId,
      items: [
        { productId: product, quantity: 1 },
        { productId: product, quantity: 2 },
      ],
    });
    expect(expectProblem(res, 400, 'VALIDATION_FAILED').field).toBe('body.items[1].productId');
  });

  const item = { productId: 1, quantity: 1 };
  it.each([
    ['no customerId', { items: [item] }, 'body.customerId'],
    ['customerId as a string', { customerId: '1', items: [item] }, 'body.customerId'],
    ['customerId 0', { customerId: 0, items: [item] }, 'body.customerId'],
    ['customerId too large', { customerId: 2 ** 63, items: [item] }, 'body.customerId'],
    ['no items', { customerId: 1 }, 'body.items'],
    ['empty items', { customerId: 1, items: [] }, 'body.items'],
    ['101 items', { customerId: 1, items: Array.from({ length: 101 }, (_, i) => ({ productId: i + 1, quantity: 1 })) }, 'body.items'],
    ['items not an array', { customerId: 1, items: { productId: 1, quantity: 1 } }, 'body.items'],
    ['quantity 0', { customerId: 1, items: [{ productId: 1, quantity: 0 }] }, 'body.items[0].quantity'],
    ['quantity 1001', { customerId: 1, items: [{ productId: 1, quantity: 1001 }] }, 'body.items[0].quantity'],
    ['quantity 1.5', { customerId: 1, items: [{ productId: 1, quantity: 1.5 }] }, 'body.items[0].quantity'],
    ['quantity missing', { customerId: 1, items: [{ productId: 1 }] }, 'body.items[0].quantity'],
    ['an unknown member', { customerId: 1, items: [item], coupon: 'FREE' }, 'body.coupon'],
    ['an unknown item member', { customerId: 1, items: [{ ...item, price: 1 }] }, 'body.items[0].price'],
    ['null', null, 'body'],
    ['an array', [item], 'body'],
  ])('is 400 VALIDATION_FAILED for %s', async (_name, body, field) => {
    const problem = expectProblem(await postJson(ordersUrl, JSON.stringify(body)), 400, 'VALIDATION_FAILED');
    expect(problem.field).toBe(field);
  });

  it.each(['{"customerId": 1,', '', 'not json', '{"__proto__": {"admin": true}}'])('is 400 BAD_JSON for %j', async (body) => {
    expectProblem(await postJson(ordersUrl, body), 400, 'BAD_JSON');
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('is 415 for Content-Type %s', async (type) => {
    const res = await request(ordersUrl, { method: 'POST', headers: { 'content-type': type }, body: '{"customerId":1}' });
    expectProblem(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('is 413 PAYLOAD_TOO_LARGE for a body over the limit', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({ productId: i + 1, quantity: 1, pad: 'x'.repeat(25_000) }));
    const body = JSON.stringify({ customerId, items });
    expect(body.length).toBeGreaterThan(app.config.server.bodyLimitBytes);
    expectProblem(await postJson(ordersUrl, body), 413, 'PAYLOAD_TOO_LARGE');
  });

  it.each([
    ['too long', 'k'.repeat(201)],
    ['with a space', 'my key'],
    ['empty', ''],
  ])('is 400 for an Idempotency-Key %s', async (_name, key) => {
    const product = await insertProduct(app.pool);
    const res = await postJson(ordersUrl, { customerId, items: [{ productId: product, quantity: 1 }] }, { 'idempotency-key': key });
    expect(expectProblem(res, 400, 'VALIDATION_FAILED').field).toBe('headers.idempotency-key');
  });
});

describe('POST /api/orders with Idempotency-Key', () => {
  it('returns the same order for a retry, without a second order or a second stock movement', async () => {
    const customer = await insertCustomer(app.pool);
    const product = await insertProduct(app.pool, { stock: 10 });
    const body = { customerId: customer, items: [{ productId: product, quantity: 2 }] };
    const first = await postJson(ordersUrl, body, { 'idempotency-key': 'retry-1' });
    const second = await postJson(ordersUrl, body, { 'idempotency-key': 'retry-1' });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await ordersOf(customer)).toBe(1);
    expect(await stockOf(app.pool, product)).toBe(8);
  });

  it('treats the same items in another order as the same request', async () => {
    const customer = await insertCustomer(app.pool);
    const a = await insertProduct(app.pool);
    const b = await insertProduct(app.pool);
    const first = await postJson(
      ordersUrl,
      {
        customerId: customer,
        items: [
          { productId: a, quantity: 1 },
          { productId: b, quantity: 2 },
        ],
      },
      { 'idempotency-key': 'reordered' },
    );
    const again = await postJson(
      ordersUrl,
      {
        customerId: customer,
        items: [
          { productId: b, quantity: 2 },
          { productId: a, quantity: 1 },
        ],
      },
      { 'idempotency-key': 'reordered' },
    );
    expect(again.body).toEqual(first.body);
    expect(await ordersOf(customer)).toBe(1);
  });

  it('is 422 IDEMPOTENCY_MISMATCH when the key is reused with another body', async () => {
    const customer = await insertCustomer(app.pool);
    const product = await insertProduct(app.pool, { stock: 10 });
    await postJson(ordersUrl, { customerId: customer, items: [{ productId: product, quantity: 1 }] }, { 'idempotency-key': 'reused' });
    const res = await postJson(
      ordersUrl,
      { customerId: customer, items: [{ productId: product, quantity: 5 }] },
      { 'idempotency-key': 'reused' },
    );
    expectProblem(res, 422, 'IDEMPOTENCY_MISMATCH');
    expect(await ordersOf(customer)).toBe(1);
    expect(await stockOf(app.pool, product)).toBe(9);
  });

  it('creates exactly one order for 50 concurrent duplicates', async () => {
    const customer = await insertCustomer(app.pool);
    const product = await insertProduct(app.pool, { stock: 1000 });
    const body = { customerId: customer, items: [{ productId: product, quantity: 3 }] };
    const answers = await Promise.all(Array.from({ length: 50 }, () => postJson(ordersUrl, body, { 'idempotency-key': 'storm' })));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect(answers.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await ordersOf(customer)).toBe(1);
    expect(await stockOf(app.pool, product)).toBe(997);
  });

  it('lets a key whose first attempt failed be used again', async () => {
    const customer = await insertCustomer(app.pool);
    const product = await insertProduct(app.pool, { stock: 1 });
    const body = { customerId: customer, items: [{ productId: product, quantity: 1 }] };
    await app.pool.query(TEST, { text: 'UPDATE products SET stock = 0 WHERE id = $1', values: [product] });
    expectProblem(await postJson(ordersUrl, body, { 'idempotency-key': 'after-failure' }), 409, 'OUT_OF_STOCK');
    await app.pool.query(TEST, { text: 'UPDATE products SET stock = 1 WHERE id = $1', values: [product] });
    expect((await postJson(ordersUrl, body, { 'idempotency-key': 'after-failure' })).status).toBe(201);
  });
});

describe('stock under contention', () => {
  it('serves exactly the stock: 200 concurrent orders on 50 units → 50 × 201, 150 × 409, stock 0', async () => {
    const product = await insertProduct(app.pool, { stock: 50 });
    const customers = await Promise.all(Array.from({ length: 4 }, () => insertCustomer(app.pool)));
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postJson(ordersUrl, { customerId: customers[i % 4], items: [{ productId: product, quantity: 1 }] }),
      ),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 409)).toHaveLength(150);
    for (const refused of answers.filter((a) => a.status === 409)) expect(refused.body.code).toBe('OUT_OF_STOCK');
    expect(await stockOf(app.pool, product)).toBe(0);
    const { rows } = await app.pool.query<{ units: string }>(TEST, {
      text: 'SELECT coalesce(sum(quantity), 0) AS units FROM order_items WHERE product_id = $1',
      values: [product],
    });
    expect(Number(rows[0]!.units)).toBe(50);
  });

  it('does not deadlock when concurrent orders lock the same products in opposite request order', async () => {
    const a = await insertProduct(app.pool, { stock: 1000 });
    const b = await insertProduct(app.pool, { stock: 1000 });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        postJson(ordersUrl, {
          customerId,
          items:
            i % 2 === 0
              ? [
                  { productId: a, quantity: 1 },
                  { productId: b, quantity: 1 },
                ]
              : [
                  { productId: b, quantity: 1 },
                  { productId: a, quantity: 1 },
                ],
        }),
      ),
    );
    expect(answers.every((r) => r.status === 201)).toBe(true);
    expect(await stockOf(app.pool, a)).toBe(940);
    expect(await stockOf(app.pool, b)).toBe(940);
  });
});

describe('Idempotency-Key scope: each caller has its own keys', () => {
  const ALICE = 'alice-key-0123456789abcdef';
  const BOB = 'bob-key-0123456789abcdef01';
  let keyed: TestApp;
  let url: string;
  beforeAll(async () => {
    keyed = await startTestApp({ env: { API_KEYS: `alice:${ALICE}:write,bob:${BOB}:write` } });
    url = `${keyed.baseUrl}/api/orders`;
  });
  afterAll(() => keyed?.close());
  const as = (key: string, idempotencyKey: string) => ({ authorization: `Bearer ${key}`, 'idempotency-key': idempotencyKey });

  it('gives two API keys sending the same key and body two orders, neither replayed', async () => {
    const customer = await insertCustomer(keyed.pool);
    const product = await insertProduct(keyed.pool, { stock: 10 });
    const body = { customerId: customer, items: [{ productId: product, quantity: 1 }] };
    const a = await postJson(url, body, as(ALICE, 'shared-key'));
    const b = await postJson(url, body, as(BOB, 'shared-key'));
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers.get('idempotent-replayed')).toBeNull();
    expect(b.body.id).not.toBe(a.body.id);
    expect(await stockOf(keyed.pool, product)).toBe(8);
    // Each caller's own retry still replays its own order.
    const again = await postJson(url, body, as(BOB, 'shared-key'));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(b.body);
  });

  it('names the caller by API key name, else by client address (open mode), never mixing the two', () => {
    expect(idempotencyCaller({ apiKey: { name: 'alice', scope: 'write' }, ip: '203.0.113.7' })).toBe('key:alice');
    expect(idempotencyCaller({ apiKey: null, ip: '203.0.113.7' })).toBe('ip:203.0.113.7');
    expect(idempotencyCaller({ apiKey: { name: '203.0.113.7', scope: 'write' }, ip: '198.51.100.1' })).not.toBe('ip:203.0.113.7');
  });

  it('does not let one caller claim a key ahead of another (no 422, so nothing leaks)', async () => {
    const customer = await insertCustomer(keyed.pool);
    const product = await insertProduct(keyed.pool, { stock: 10 });
    await postJson(url, { customerId: customer, items: [{ productId: product, quantity: 3 }] }, as(BOB, 'claimed-first'));
    const res = await postJson(url, { customerId: customer, items: [{ productId: product, quantity: 1 }] }, as(ALICE, 'claimed-first'));
    expect(res.status).toBe(201);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
  });
});
