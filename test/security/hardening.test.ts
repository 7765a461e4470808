/**
 * Response hardening on the running service: security headers everywhere but
 * the health probe, a CSP the docs page can live with, CORS only for exact
 * configured origins, and a request id on every answer and every log line
 * of a request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem, postJson, request, type Answer } from '../helpers/http.ts';
import { API_CSP, DOCS_CSP } from '../../src/http/hardening.ts';
import { API_KEYS_ENV } from './helpers.ts';
import { TEST } from '../helpers/context.ts';

const ADMIN_TOKEN = 'adm_9d8c7b6a5f4e3d2c1b0a';
const METRICS_TOKEN = 'met_0a1b2c3d4e5f6a7b8c9d';
const ORIGIN = 'https://app.example.com';

/** helmet writes CSP directives joined by ';' without a space. */
const compact = (csp: string) => csp.replace(/; /g, ';');

function expectSecurityHeaders(answer: Answer, what: string): void {
  const h = answer.headers;
  expect(compact(h.get('content-security-policy') ?? ''), what).toBe(compact(API_CSP));
  expect(h.get('x-content-type-options'), what).toBe('nosniff');
  expect(h.get('x-frame-options'), what).toBe('DENY');
  expect(h.get('strict-transport-security'), what).toMatch(/^max-age=\d+/);
  expect(h.get('referrer-policy'), what).toBe('no-referrer');
  expect(h.get('cross-origin-resource-policy'), what).toBe('same-origin');
  expect(h.get('x-powered-by'), what).toBeNull();
}

describe('security headers', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN, METRICS_TOKEN, API_KEYS: API_KEYS_ENV } });
  });
  afterAll(() => app?.close());

  it('are on every API answer, success or problem, and on the operator surfaces', async () => {
    const url = app.baseUrl;
    const answers: [string, Answer][] = [
      ['list', await request(`${url}/api/products`)],
      ['ready', await request(`${url}/api/ready`)],
      ['openapi', await request(`${url}/api/openapi.json`)],
      ['404 resource', await request(`${url}/api/products/999999`)],
      ['400 validation', await request(`${url}/api/products?limit=0`)],
      ['401 write', await postJson(`${url}/api/orders`, {})],
      ['metrics 200', await request(`${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })],
      ['metrics 401', await request(`${url}/metrics`)],
      ['admin 200', await request(`${url}/admin/queries`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })],
      ['admin 401', await request(`${url}/admin/queries`)],
    ];
    for (const [what, answer] of answers) expectSecurityHeaders(answer, what);
  });

  it('put nosniff and the empty CSP on problems sent before any hook ran (unknown route, malformed URL)', async () => {
    for (const answer of [await request(`${app.baseUrl}/nope`), await request(`${app.baseUrl}/api/products/%E0%A4%A`)]) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(compact(answer.headers.get('content-security-policy') ?? '')).toBe(compact(API_CSP));
    }
  });

  it('are left off GET /api/health, the hook-free probe route', async () => {
    const health = await request(`${app.baseUrl}/api/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-security-policy')).toBeNull();
    expect(health.headers.get('x-request-id')).toBeTruthy();
  });

  it('give the docs page a CSP it works under: same-origin scripts only, no inline script anywhere', async () => {
    const page = await request(`${app.baseUrl}/api/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(DOCS_CSP);
    expect(DOCS_CSP).toMatch(/script-src 'self'(;|$)/);
    // Every script is an external file from this origin; none is inline.
    const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/api\/docs\/static\/[^"]+\.js"/);
      expect(body!.trim()).toBe('');
    }
    expect(page.text).not.toMatch(/\son[a-z]+=/i);
    for (const asset of ['swagger-ui-bundle.js', 'swagger-initializer.js', 'swagger-ui.css']) {
      const res = await request(`${app.baseUrl}/api/docs/static/${asset}`);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('content-security-policy'), asset).toBe(DOCS_CSP);
    }
    // The document the page loads is same-origin, as connect-src 'self' requires.
    const initializer = await request(`${app.baseUrl}/api/docs/static/swagger-initializer.js`);
    expect(initializer.text).toContain("resolveUrl('./json')");
    expect((await request(`${app.baseUrl}/api/docs/json`)).status).toBe(200);
  });
});

describe('CORS', () => {
  describe('with CORS_ORIGINS unset', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(() => app?.close());

    it('is off: no CORS headers for any origin, and a preflight is an unknown route', async () => {
      const res = await request(`${app.baseUrl}/api/products`, { headers: { origin: ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await request(`${app.baseUrl}/api/orders`, {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      });
      expectProblem(preflight, 404, 'ROUTE_NOT_FOUND');
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('with CORS_ORIGINS set', () => {
    let app: TestApp;
    let client = 0;
    /** Headers of a new client (its own rate-limit quota) from `origin`. */
    const from = (origin: string, headers: Record<string, string> = {}) => ({
      origin,
      'x-forwarded-for': `198.18.7.${++client}`,
      ...headers,
    });
    beforeAll(async () => {
      app = await startTestApp({
        env: {
          CORS_ORIGINS: `${ORIGIN}, http://localhost:5173, https://typo.example.com/`,
          API_KEYS: API_KEYS_ENV,
          RATE_LIMIT_ENABLED: 'true',
          RATE_LIMIT_MAX: '2',
          TRUST_PROXY: '1',
        },
      });
    });
    afterAll(() => app?.close());

    it('allows exactly the listed origins, echoing the origin with Vary: Origin', async () => {
      for (const origin of [ORIGIN, 'http://localhost:5173']) {
        const res = await request(`${app.baseUrl}/api/openapi.json`, { headers: from(origin) });
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('vary')).toMatch(/origin/i);
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
        expect(res.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
      }
    });

    it('gives near misses nothing: other scheme, port, subdomain, suffix, case, slash-less typo, null', async () => {
      for (const origin of [
        'http://app.example.com',
        'https://app.example.com:8443',
        'https://evil.app.example.com',
        'https://app.example.com.evil.test',
        'https://APP.EXAMPLE.COM',
        // The misconfigured entry `https://typo.example.com/` is not this origin.
        'https://typo.example.com',
        'null',
      ]) {
        const res = await request(`${app.baseUrl}/api/openapi.json`, { headers: from(origin) });
        expect(res.status).toBe(200);
        expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
      }
    });

    it('answers an allowed preflight with the methods and headers a client needs, and refuses others with 404', async () => {
      const ok = await request(`${app.baseUrl}/api/orders`, {
        method: 'OPTIONS',
        headers: from(ORIGIN, {
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, idempotency-key',
        }),
      });
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      expect(ok.headers.get('access-control-allow-methods')).toBe('GET, HEAD, POST');
      expect(ok.headers.get('access-control-allow-headers')).toMatch(/Authorization.*Content-Type.*Idempotency-Key/);
      expect(ok.headers.get('access-control-max-age')).toBe('600');
      expect(ok.headers.get('x-request-id')).toBeTruthy();
      const refused = await request(`${app.baseUrl}/api/orders`, {
        method: 'OPTIONS',
        headers: from('https://evil.test', { 'access-control-request-method': 'POST' }),
      });
      expectProblem(refused, 404, 'ROUTE_NOT_FOUND');
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('lets an allowed origin read refusals too (401, 429), so a browser client can show them', async () => {
      const unauthorized = await postJson(`${app.baseUrl}/api/orders`, {}, from(ORIGIN));
      expectProblem(unauthorized, 401, 'UNAUTHORIZED');
      expect(unauthorized.headers.get('access-control-allow-origin')).toBe(ORIGIN);
      const one = from(ORIGIN);
      let limited: Answer | undefined;
      for (let i = 0; i < 4 && limited?.status !== 429; i++) limited = await request(`${app.baseUrl}/api/products`, { headers: one });
      expectProblem(limited!, 429, 'RATE_LIMITED');
      expect(limited!.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    });

    it('warns at start about an entry that can never match', () => {
      const warnings = app.logs.lines.filter((l) => String(l.msg).startsWith('CORS_ORIGINS entry is not an origin'));
      expect(warnings.map((l) => l.origin)).toEqual(['https://typo.example.com/']);
    });
  });
});

describe('request ids', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { ADMIN_TOKEN, METRICS_TOKEN, SLOW_QUERY_MS: '0', CORS_ORIGINS: ORIGIN, BODY_LIMIT_BYTES: '1024' } });
  });
  afterAll(() => app?.close());

  it('echo a sane incoming X-Request-Id, or a fresh one, on every kind of answer', async () => {
    const url = app.baseUrl;
    const cases: [string, string, RequestInit][] = [
      ['health', `${url}/api/health`, {}],
      ['list', `${url}/api/products`, {}],
      ['docs', `${url}/api/docs`, {}],
      ['docs asset', `${url}/api/docs/static/swagger-ui.css`, {}],
      ['metrics', `${url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } }],
      ['metrics 401', `${url}/metrics`, {}],
      ['admin', `${url}/admin/queries`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }],
      ['admin 401', `${url}/admin/queries`, {}],
      ['unknown route', `${url}/nope`, {}],
      ['bad url', `${url}/api/products/%E0%A4%A`, {}],
      ['preflight', `${url}/api/orders`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } }],
      [
        '413',
        `${url}/api/orders`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(4096) }) },
      ],
    ];
    for (const [what, target, init] of cases) {
      const fresh = await request(target, init);
      expect(fresh.headers.get('x-request-id'), what).toMatch(/^[0-9a-f-]{36}$/);
      const id = `trace-${what.replace(/\W/g, '-')}`;
      const echoed = await request(target, { ...init, headers: { ...(init.headers as Record<string, string>), 'x-request-id': id } });
      expect(echoed.headers.get('x-request-id'), what).toBe(id);
    }
  });

  it("appear in every log line of a request: the profiler's slow-query lines and the error handler's", async () => {
    const id = 'trace-logged-request-1';
    const from = app.logs.lines.length;
    // A filter nobody used yet, so the list is not answered from the cache.
    expect((await request(`${app.baseUrl}/api/products?category=trace-log-lines`, { headers: { 'x-request-id': id } })).status).toBe(200);
    await app.profiler.settled();
    const lines = app.logs.lines.slice(from);
    const slow = lines.filter((l) => l.slowQuery !== undefined);
    expect(slow.length).toBeGreaterThan(0);
    for (const line of lines) expect(line, JSON.stringify(line)).toMatchObject({ requestId: id });

    // An INTERNAL error: its line, and the slow line of the failed statement, both carry the id.
    await app.pool.query(TEST, { text: 'ALTER TABLE customers RENAME TO customers_gone' });
    try {
      const failing = 'trace-logged-request-2';
      const at = app.logs.lines.length;
      expectProblem(await request(`${app.baseUrl}/api/customers/1`, { headers: { 'x-request-id': failing } }), 500, 'INTERNAL');
      await app.profiler.settled();
      const failed = app.logs.lines.slice(at);
      expect(failed.some((l) => l.msg === 'unhandled error')).toBe(true);
      for (const line of failed) expect(line, JSON.stringify(line)).toMatchObject({ requestId: failing });
    } finally {
      await app.pool.query(TEST, { text: 'ALTER TABLE customers_gone RENAME TO customers' });
    }
  });
});
