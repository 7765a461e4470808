/**
 * The operator surfaces, /admin/* and /metrics, on the running service:
 * 401 without their token (or with any other credential, API keys
 * included), 200 with it, and never rate limited or shed into silence.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem, request } from '../helpers/http.ts';
import { API_KEYS_ENV, KEYS } from './helpers.ts';

const ADMIN_TOKEN = 'adm_9d8c7b6a5f4e3d2c1b0a';
const METRICS_TOKEN = 'met_0a1b2c3d4e5f6a7b8c9d';

/** Everything that is not the right token for a surface. */
function wrongCredentials(right: string, other: string): Record<string, string>[] {
  return [
    {},
    { authorization: '' },
    { authorization: 'Bearer ' },
    { authorization: `Bearer ${right}x` },
    { authorization: `Bearer ${right.slice(0, -1)}` },
    { authorization: `Bearer ${other}` },
    { authorization: `Bearer ${KEYS.writer}` },
    { authorization: `Basic ${Buffer.from(`admin:${right}`).toString('base64')}` },
    { authorization: right },
    { 'x-admin-token': right },
  ];
}

describe('with ADMIN_TOKEN and METRICS_TOKEN set', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN, METRICS_TOKEN, API_KEYS: API_KEYS_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '1' } });
  });
  afterAll(() => app?.close());

  it('GET /admin/queries: 401 with WWW-Authenticate for anything but the admin token, 200 with it', async () => {
    for (const headers of wrongCredentials(ADMIN_TOKEN, METRICS_TOKEN)) {
      const res = await request(`${app.baseUrl}/admin/queries`, { headers });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(res.text).not.toMatch(/statements|fingerprint/);
    }
    const ok = await request(`${app.baseUrl}/admin/queries`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toHaveProperty('statements');
    expect(ok.headers.get('cache-control')).toBe('no-store');
  });

  it('GET /metrics: 401 with WWW-Authenticate for anything but the metrics token, 200 with it', async () => {
    for (const headers of wrongCredentials(METRICS_TOKEN, ADMIN_TOKEN)) {
      const res = await request(`${app.baseUrl}/metrics`, { headers });
      expectProblem(res, 401, 'UNAUTHORIZED');
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(res.text).not.toContain('holdfast_');
    }
    const ok = await request(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('holdfast_db_pool_connections');
  });

  it('never rate limits the operator surfaces (the API quota here is 1)', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await request(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
      expect((await request(`${app.baseUrl}/admin/queries`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    }
  });

  it('never reflects a presented token in the answer', async () => {
    const res = await request(`${app.baseUrl}/admin/queries`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(res.text).not.toContain(METRICS_TOKEN);
  });
});

describe('with neither token set', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  it('answers /admin/queries 404, as if it did not exist, whatever is presented', async () => {
    for (const headers of [{}, { authorization: 'Bearer anything' }] as Record<string, string>[]) {
      expectProblem(await request(`${app.baseUrl}/admin/queries`, { headers }), 404, 'ROUTE_NOT_FOUND');
    }
  });

  it('serves /metrics without a token (protect it at the network, or set METRICS_TOKEN)', async () => {
    expect((await request(`${app.baseUrl}/metrics`)).status).toBe(200);
  });
});
