/**
 * Customer data needs a key (issue 13, finding 2), and the key model is the
 * back-office one: every key acts for every customer (docs/SECURITY.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem, postJson, request } from '../helpers/http.ts';
import { insertCustomer } from '../helpers/store-fixtures.ts';
import { API_KEYS_ENV, KEYS, smallStore, writeSnapshot, type SmallStore } from './helpers.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('with API_KEYS set', () => {
  let app: TestApp;
  let store: SmallStore;
  let other: number;
  beforeAll(async () => {
    app = await startTestApp({ env: { API_KEYS: API_KEYS_ENV } });
    store = await smallStore(app.pool);
    other = await insertCustomer(app.pool, { name: 'Grace', email: 'grace@example.test' });
  });
  afterAll(() => app?.close());

  const customerPaths = () => [`/api/customers/${store.customerId}`, `/api/customers/${store.customerId}/orders`, `/api/customers/424242`];

  it('refuses to read customers or their orders without a key: 401, no customer data in the answer', async () => {
    for (const path of customerPaths()) {
      const res = await request(`${app.baseUrl}${path}`);
      const problem = expectProblem(res, 401, 'UNAUTHORIZED');
      expect(problem.detail, path).toMatch(/Authorization: Bearer <API key> with scope read/);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="holdfast"');
      expect(res.text).not.toContain('@example.test');
    }
  });

  it('refuses a wrong key on a customer read: 401 invalid_token', async () => {
    for (const path of customerPaths()) {
      const res = await request(`${app.baseUrl}${path}`, { headers: bearer(`${KEYS.reader}x`) });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="holdfast", error="invalid_token"');
    }
  });

  it('serves customer reads to a read key and to a write key (write grants read)', async () => {
    for (const key of [KEYS.reader, KEYS.writer]) {
      const customer = await request(`${app.baseUrl}/api/customers/${store.customerId}`, { headers: bearer(key) });
      expect(customer.status, customer.text).toBe(200);
      expect(customer.body.id).toBe(store.customerId);
      const orders = await request(`${app.baseUrl}/api/customers/${store.customerId}/orders`, { headers: bearer(key) });
      expect(orders.status, orders.text).toBe(200);
      expectProblem(await request(`${app.baseUrl}/api/customers/424242`, { headers: bearer(key) }), 404, 'NOT_FOUND');
    }
  });

  it('back-office model: one write key places orders for two different customers, and reads both histories', async () => {
    const placed: number[] = [];
    for (const customerId of [store.customerId, other]) {
      const res = await postJson(
        `${app.baseUrl}/api/orders`,
        { customerId, items: [{ productId: store.productIds[0], quantity: 1 }] },
        bearer(KEYS.writer),
      );
      expect(res.status, res.text).toBe(201);
      expect(res.body.customerId).toBe(customerId);
      placed.push(res.body.id);
    }
    for (const [i, customerId] of [store.customerId, other].entries()) {
      const history = await request(`${app.baseUrl}/api/customers/${customerId}/orders`, { headers: bearer(KEYS.reader) });
      expect(history.body.items.map((o: { id: number }) => o.id)).toContain(placed[i]);
    }
  });

  it('a read key cannot write, and no key reads nothing of a customer', async () => {
    const before = await writeSnapshot(app.pool);
    const order = { customerId: other, items: [{ productId: store.productIds[1], quantity: 1 }] };
    expectProblem(await postJson(`${app.baseUrl}/api/orders`, order, bearer(KEYS.reader)), 403, 'FORBIDDEN');
    expect(await writeSnapshot(app.pool)).toEqual(before);
    for (const path of [`/api/customers/${other}`, `/api/customers/${other}/orders`]) {
      expect((await request(`${app.baseUrl}${path}`)).status).toBe(401);
    }
  });

  it('keeps the catalogue public: products and the report need no key', async () => {
    for (const path of ['/api/products', `/api/products/${store.productIds[0]}`, '/api/reports/top-products', '/api/ready']) {
      expect((await request(`${app.baseUrl}${path}`)).status, path).toBe(200);
    }
  });
});

describe('with API_KEYS unset (open development mode)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  it('serves customer reads to anyone, and says so loudly once at start', async () => {
    const store = await smallStore(app.pool);
    expect((await request(`${app.baseUrl}/api/customers/${store.customerId}`)).status).toBe(200);
    expect((await request(`${app.baseUrl}/api/customers/${store.customerId}/orders`)).status).toBe(200);
    const warnings = app.logs.lines.filter((l) => String(l.msg).startsWith('API_KEYS unset'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40 });
    expect(String(warnings[0]!.msg)).toMatch(/customers.*orders.*open/i);
  });
});
