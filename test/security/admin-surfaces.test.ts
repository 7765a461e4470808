/**
 * The operator surfaces, /admin/* and /metrics, on the running service:
 * 401 without their token (or with any other credential, API keys
 * included), 200 with it, never limited by the API's quota, and failed
 * authentication limited per client address (ADMIN_AUTH_FAILURES_PER_MINUTE).
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
    app = await startTestApp({
      env: { ADMIN_TOKEN, METRICS_TOKEN, API_KEYS: API_KEYS_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '1' },
    });
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

describe('failed authentication, 3 per minute per client, clients told apart behind one proxy', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN, METRICS_TOKEN, ADMIN_AUTH_FAILURES_PER_MINUTE: '3', TRUST_PROXY: '1' } });
  });
  afterAll(() => app?.close());

  /** As the proxy forwards it: whatever the client sent, then the address the proxy saw. */
  const from = (client: string, headers: Record<string, string> = {}) => ({
    ...headers,
    'x-forwarded-for': `spoofed-${Math.random()}, ${client}`,
  });
  const admin = (client: string, token: string) =>
    request(`${app.baseUrl}/admin/queries`, { headers: from(client, { authorization: `Bearer ${token}` }) });
  const metrics = (client: string, token: string) =>
    request(`${app.baseUrl}/metrics`, { headers: from(client, { authorization: `Bearer ${token}` }) });
  const login = (client: string, token: string) =>
    request(`${app.baseUrl}/admin/login`, {
      method: 'POST',
      headers: from(client, { 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });

  it('GET /admin/queries: 401 three times, then 429 with Retry-After, even for the right token', async () => {
    const wrong = 'adm_guess_0000000000000000';
    for (let i = 0; i < 3; i++) expectProblem(await admin('203.0.113.1', wrong), 401, 'UNAUTHORIZED');
    const refused = await admin('203.0.113.1', wrong);
    expectProblem(refused, 429, 'RATE_LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Refused before the comparison: a right guess is not told apart while refused.
    expectProblem(await admin('203.0.113.1', ADMIN_TOKEN), 429, 'RATE_LIMITED');
    expect((await admin('203.0.113.2', ADMIN_TOKEN)).status).toBe(200);
  });

  it('GET /metrics and POST /admin/login share the quota; successes are not charged', async () => {
    for (let i = 0; i < 10; i++) expect((await metrics('203.0.113.3', METRICS_TOKEN)).status).toBe(200);
    expect((await login('203.0.113.3', ADMIN_TOKEN)).status).toBe(303);
    expect((await metrics('203.0.113.3', 'met_guess_0000000000000000')).status).toBe(401);
    expect((await login('203.0.113.3', 'adm_guess_0000000000000000')).status).toBe(401);
    expect((await admin('203.0.113.3', 'adm_guess_0000000000000000')).status).toBe(401);
    expectProblem(await metrics('203.0.113.3', METRICS_TOKEN), 429, 'RATE_LIMITED');
    expectProblem(await login('203.0.113.3', ADMIN_TOKEN), 429, 'RATE_LIMITED');
  });

  it('charges before comparing: concurrent guesses get no more than the quota', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => admin('203.0.113.6', 'adm_guess_0000000000000000')));
    expect(answers.filter((r) => r.status === 401)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(17);
  });

  it('the dashboard bearer counts too', async () => {
    const stream = (token: string) =>
      request(`${app.baseUrl}/admin/dashboard/plans/x`, { headers: from('203.0.113.4', { authorization: `Bearer ${token}` }) });
    for (let i = 0; i < 3; i++) expect((await stream('adm_guess_0000000000000000')).status).toBe(401);
    expectProblem(await stream(ADMIN_TOKEN), 429, 'RATE_LIMITED');
  });

  it('logs each failure at warn with the route and the client address, never the guess', async () => {
    const guess = 'adm_never_logged_0123456789';
    await admin('203.0.113.5', guess);
    const line = app.logs.lines.find((l) => l.msg === 'admin authentication failed' && l.client === '203.0.113.5');
    expect(line).toMatchObject({ level: 40, route: 'GET /admin/queries' });
    expect(app.logs.raw()).not.toContain(guess);
  });
});
