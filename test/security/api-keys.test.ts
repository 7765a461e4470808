/**
 * API keys on the running service: writes need a write key, the catalogue
 * stays public (customers need a key: customer-access.test.ts), and the rate
 * limiter counts verified keys, never invented ones.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem, postJson, request } from '../helpers/http.ts';
import { API_KEYS_ENV, KEYS, smallStore, writeSnapshot, type SmallStore } from './helpers.ts';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('with API_KEYS set', () => {
  let app: TestApp;
  let store: SmallStore;
  let order: { customerId: number; items: { productId: number; quantity: number }[] };
  beforeAll(async () => {
    app = await startTestApp({ env: { API_KEYS: API_KEYS_ENV } });
    store = await smallStore(app.pool);
    order = { customerId: store.customerId, items: [{ productId: store.productIds[0], quantity: 1 }] };
  });
  afterAll(() => app?.close());

  it('refuses a write without Authorization: 401 UNAUTHORIZED with WWW-Authenticate: Bearer, nothing written', async () => {
    const before = await writeSnapshot(app.pool);
    const res = await postJson(`${app.baseUrl}/api/orders`, order, { 'idempotency-key': 'no-auth-1' });
    const problem = expectProblem(res, 401, 'UNAUTHORIZED');
    expect(problem.detail).toMatch(/Authorization: Bearer/);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="holdfast"');
    expect(await writeSnapshot(app.pool)).toEqual(before);
  });

  it('refuses a wrong key, a malformed header and other schemes with 401 and error="invalid_token"', async () => {
    const before = await writeSnapshot(app.pool);
    for (const authorization of [
      'Bearer wk_live_7f3a9c2e5b1d4f6a8c0f',
      `Bearer ${KEYS.writer}x`,
      `Bearer ${KEYS.writer.toUpperCase()}`,
      'Bearer writer',
      `Basic ${Buffer.from(`writer:${KEYS.writer}`).toString('base64')}`,
      KEYS.writer,
      'Bearer',
      `Bearer ${KEYS.writer} extra`,
    ]) {
      const res = await postJson(`${app.baseUrl}/api/orders`, order, { authorization });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate'), authorization).toBe('Bearer realm="holdfast", error="invalid_token"');
      expect(res.text).not.toContain(KEYS.writer);
    }
    expect(await writeSnapshot(app.pool)).toEqual(before);
  });

  it('refuses a read-only key on a write with 403 FORBIDDEN, nothing written', async () => {
    const before = await writeSnapshot(app.pool);
    const res = await postJson(`${app.baseUrl}/api/orders`, order, bearer(KEYS.reader));
    expectProblem(res, 403, 'FORBIDDEN');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="holdfast", error="insufficient_scope", scope="write"');
    expect(await writeSnapshot(app.pool)).toEqual(before);
  });

  it('accepts a write key, in any case of the scheme', async () => {
    const res = await postJson(`${app.baseUrl}/api/orders`, order, bearer(KEYS.writer));
    expect(res.status, res.text).toBe(201);
    const again = await postJson(`${app.baseUrl}/api/orders`, order, { authorization: `bearer  ${KEYS.writer}` });
    expect(again.status, again.text).toBe(201);
  });

  it('refuses before reading the body: an oversized body without a key is 401, not 413', async () => {
    const huge = JSON.stringify({ ...order, pad: 'x'.repeat(2 * 1024 * 1024) });
    expectProblem(await postJson(`${app.baseUrl}/api/orders`, huge), 401, 'UNAUTHORIZED');
  });

  it('keeps catalogue reads public, with no key, a read key, a write key or a wrong key', async () => {
    for (const headers of [{}, bearer(KEYS.reader), bearer(KEYS.writer), bearer('not-a-key-0123456789')] as Record<string, string>[]) {
      expect((await request(`${app.baseUrl}/api/products`, { headers })).status).toBe(200);
      expect((await request(`${app.baseUrl}/api/products/${store.productIds[0]}`, { headers })).status).toBe(200);
      expect((await request(`${app.baseUrl}/api/reports/top-products`, { headers })).status).toBe(200);
    }
  });

  it('logs no API_KEYS warning when keys are configured', () => {
    expect(app.logs.lines.filter((l) => String(l.msg).startsWith('API_KEYS unset'))).toHaveLength(0);
  });
});

describe('with API_KEYS unset', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  it('leaves writes open, whatever Authorization says, and warns once at start that the API is open', async () => {
    const store = await smallStore(app.pool);
    const order = { customerId: store.customerId, items: [{ productId: store.productIds[1], quantity: 1 }] };
    for (const headers of [{}, bearer('anything-0123456789abcdef')] as Record<string, string>[]) {
      const res = await postJson(`${app.baseUrl}/api/orders`, order, headers);
      expect(res.status, res.text).toBe(201);
    }
    const warnings = app.logs.lines.filter((l) =>
      String(l.msg).startsWith('API_KEYS unset: anyone can read customers and their orders and place orders'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40 });
  });
});

describe('rate limiting on the verified identity', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });

  async function limited(): Promise<TestApp> {
    const app = await startTestApp({
      env: {
        API_KEYS: API_KEYS_ENV,
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_MAX: '5',
        RATE_LIMIT_WRITE_MAX: '3',
        // Clients told apart by X-Forwarded-For, as behind a load balancer.
        TRUST_PROXY: '1',
      },
    });
    apps.push(app);
    return app;
  }

  it('counts invented keys against the address: guessing spends the write quota, then 429', async () => {
    const app = await limited();
    const from = { 'x-forwarded-for': '203.0.113.10' };
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await postJson(
        `${app.baseUrl}/api/orders`,
        { customerId: 1, items: [] },
        { ...from, ...bearer(`guess-${i}-0123456789abcdef`) },
      );
      statuses.push(res.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Invented keys on reads share the address's read quota too.
    const reads: number[] = [];
    for (let i = 0; i < 7; i++)
      reads.push((await request(`${app.baseUrl}/api/products`, { headers: { ...from, ...bearer(`guess-${i}-0123456789abcdef`) } })).status);
    expect(reads).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  it('gives a verified key its own quota, from any address, apart from the address it comes from', async () => {
    const app = await limited();
    const store = await smallStore(app.pool);
    const order = { customerId: store.customerId, items: [{ productId: store.productIds[0], quantity: 1 }] };
    const from = { 'x-forwarded-for': '203.0.113.20' };
    // Spend the address's write quota anonymously…
    for (let i = 0; i < 3; i++) expect((await postJson(`${app.baseUrl}/api/orders`, order, from)).status).toBe(401);
    expect((await postJson(`${app.baseUrl}/api/orders`, order, from)).status).toBe(429);
    // …the write key from the same address still has its own.
    const keyed = await postJson(`${app.baseUrl}/api/orders`, order, { ...from, ...bearer(KEYS.writer) });
    expect(keyed.status, keyed.text).toBe(201);
    expect(keyed.headers.get('ratelimit')).toMatch(/^"writes";r=2;t=\d+$/);
    // The same key from another address is the same client.
    await postJson(`${app.baseUrl}/api/orders`, order, { 'x-forwarded-for': '198.51.100.1', ...bearer(KEYS.writer) });
    await postJson(`${app.baseUrl}/api/orders`, order, { 'x-forwarded-for': '198.51.100.2', ...bearer(KEYS.writer) });
    expectProblem(
      await postJson(`${app.baseUrl}/api/orders`, order, { 'x-forwarded-for': '198.51.100.3', ...bearer(KEYS.writer) }),
      429,
      'RATE_LIMITED',
    );
  });

  it('reads a key with punctuation (!#$) the same way for API_KEYS and RATE_LIMIT_ALLOW: authenticated and never limited', async () => {
    const partner = 'pk_live!#$%&*+/=?^`{|}~0123';
    const app = await startTestApp({
      env: {
        API_KEYS: `${API_KEYS_ENV},partner:${partner}:write`,
        RATE_LIMIT_ALLOW: partner,
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_MAX: '2',
        RATE_LIMIT_WRITE_MAX: '1',
        TRUST_PROXY: '1',
      },
    });
    apps.push(app);
    const store = await smallStore(app.pool);
    const order = { customerId: store.customerId, items: [{ productId: store.productIds[0], quantity: 1 }] };
    const from = { 'x-forwarded-for': '203.0.113.30', ...bearer(partner) };
    for (let i = 0; i < 3; i++) {
      const res = await postJson(`${app.baseUrl}/api/orders`, order, from);
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('ratelimit')).toBeNull();
    }
    for (let i = 0; i < 4; i++) expect((await request(`${app.baseUrl}/api/products`, { headers: from })).status).toBe(200);
    // The same address without the key is limited as usual.
    expect((await postJson(`${app.baseUrl}/api/orders`, order, { 'x-forwarded-for': '203.0.113.30' })).status).toBe(401);
    expect((await postJson(`${app.baseUrl}/api/orders`, order, { 'x-forwarded-for': '203.0.113.30' })).status).toBe(429);
  });
});
