import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { createRateLimiter } from '../../../src/guards/rate-limit/index.ts';
import { createErrorHandler } from '../../../src/http/error-handler.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { clientHeaders, freshIp, hit, startLimitedApp, type Answer, type LimitedApp } from './harness.ts';
import { parseSfList } from './structured-fields.ts';

/** The RateLimit fields of an answer, parsed strictly as RFC 8941 lists. */
function rateLimitOf(answer: Answer) {
  const policy = parseSfList(answer.headers.get('ratelimit-policy') ?? fail('no RateLimit-Policy'));
  const limit = parseSfList(answer.headers.get('ratelimit') ?? fail('no RateLimit'));
  expect(policy).toHaveLength(1);
  expect(limit).toHaveLength(1);
  return {
    policy: { name: policy[0]!.value, q: policy[0]!.params.get('q'), w: policy[0]!.params.get('w') },
    limit: { name: limit[0]!.value, r: limit[0]!.params.get('r') as number, t: limit[0]!.params.get('t') as number },
  };
}

function fail(message: string): never {
  throw new Error(message);
}

let t: LimitedApp;
beforeAll(async () => {
  t = await startLimitedApp({ RATE_LIMIT_MAX: '20', RATE_LIMIT_WRITE_MAX: '5', RATE_LIMIT_ALLOW: '192.0.2.0/24,partner-key' });
});
afterAll(() => t?.close());

describe('the rate-limit hook (in-memory store)', () => {
  it('admits exactly RATE_LIMIT_MAX of 30 rapid requests; the rest get 429 with Retry-After and RateLimit fields', async () => {
    const headers = clientHeaders(freshIp());
    const answers = await Promise.all(Array.from({ length: 30 }, () => hit(`${t.baseUrl}/api/products`, { headers })));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(ok).toHaveLength(20);
    expect(refused).toHaveLength(10);
    for (const a of answers) {
      const { policy, limit } = rateLimitOf(a);
      expect(policy).toEqual({ name: 'default', q: 20, w: 60 });
      expect(limit.name).toBe('default');
      expect(Number.isInteger(limit.r) && limit.r >= 0).toBe(true);
      expect(Number.isInteger(limit.t) && limit.t >= 1).toBe(true);
    }
    expect(ok.map((a) => rateLimitOf(a).limit.r).sort((x, y) => y - x)).toEqual(Array.from({ length: 20 }, (_, i) => 19 - i));
    for (const a of refused) {
      expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(a.body).toMatchObject({ code: 'RATE_LIMITED', status: 429, type: 'urn:holdfast:error:RATE_LIMITED' });
      const retryAfter = Number(a.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(3); // one request's worth refills in 60/20 s
      const { limit } = rateLimitOf(a);
      expect(limit.r).toBe(0);
      // Retry-After must not point before the end of the effective window t (draft §6).
      expect(retryAfter).toBe(limit.t);
    }
    expect(t.limiter.stats.admitted).toBeGreaterThanOrEqual(20);
    expect(t.limiter.stats.limited).toBeGreaterThanOrEqual(10);
    expect(t.limiter.stats.mode).toBe('memory');
  });

  it('limits writes by RATE_LIMIT_WRITE_MAX, separately from reads', async () => {
    const headers = { ...clientHeaders(freshIp()), 'content-type': 'application/json' };
    const writes = [];
    for (let i = 0; i < 8; i += 1) writes.push(await hit(`${t.baseUrl}/api/orders`, { method: 'POST', headers, body: '{}' }));
    expect(writes.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(rateLimitOf(writes[0]!).policy).toEqual({ name: 'writes', q: 5, w: 60 });
    expect(rateLimitOf(writes[7]!).limit).toMatchObject({ name: 'writes', r: 0 });
    expect(writes[7]!.body.detail).toMatch(/more than 5 write requests per 60 s/);
    // Reads from the same client still have their own, larger quota.
    const read = await hit(`${t.baseUrl}/api/products`, { headers });
    expect(read.status).toBe(200);
    expect(rateLimitOf(read).limit).toEqual({ name: 'default', r: 19, t: 3 });
  });

  it('never limits health, readiness or metrics, and adds no RateLimit fields there', async () => {
    const headers = clientHeaders(freshIp());
    for (const path of ['/api/health', '/api/ready', '/metrics', '/api/health?verbose=1']) {
      const answers = await Promise.all(Array.from({ length: 40 }, () => hit(`${t.baseUrl}${path}`, { headers })));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(answers.some((a) => a.headers.has('ratelimit') || a.headers.has('ratelimit-policy'))).toBe(false);
    }
    // …and they did not spend the client's quota.
    expect(rateLimitOf(await hit(`${t.baseUrl}/api/products`, { headers })).limit.r).toBe(19);
  });

  it('limits unknown routes too (scanners get 429, not endless 404s)', async () => {
    const headers = clientHeaders(freshIp());
    const answers = [];
    for (let i = 0; i < 21; i += 1) answers.push(await hit(`${t.baseUrl}/api/nope`, { headers }));
    expect(answers.slice(0, 20).every((a) => a.status === 404)).toBe(true);
    expect(answers[20]!.status).toBe(429);
  });

  it('counts an unverified bearer value against the address (no fresh quota per invented key), and never logs it', async () => {
    // This harness verifies no keys (the server's api-keys hook does): every bearer value is unverified here.
    const ip = freshIp();
    const secret = 'sk_test_do_not_log_me_0123456789';
    const withKey = await Promise.all(
      Array.from({ length: 25 }, (_, i) => hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(ip, `${secret}${i}`) })),
    );
    expect(withKey.filter((a) => a.status === 200)).toHaveLength(20);
    // The same address without a key is the same, spent, client.
    expect((await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(ip) })).status).toBe(429);
    // Another address with the same value is another client.
    expect((await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(freshIp(), secret) })).status).toBe(200);
    expect(t.logs.raw()).not.toContain(secret);
  });

  it('groups IPv6 clients by /64 and IPv4-mapped addresses with IPv4', async () => {
    const v6 = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(`2001:db8:77:1::${(i + 1).toString(16)}`) }),
      ),
    );
    expect(v6.filter((a) => a.status === 200)).toHaveLength(20);
    expect((await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders('2001:db8:77:2::1') })).status).toBe(200);

    const ip = freshIp();
    for (let i = 0; i < 20; i += 1) await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(ip) });
    expect((await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(`::ffff:${ip}`) })).status).toBe(429);
  });

  it('never limits allow-listed networks or API keys', async () => {
    for (const headers of [clientHeaders('192.0.2.99'), clientHeaders(freshIp(), 'partner-key')]) {
      const answers = await Promise.all(Array.from({ length: 40 }, () => hit(`${t.baseUrl}/api/products`, { headers })));
      expect(answers.every((a) => a.status === 200)).toBe(true);
      expect(answers.some((a) => a.headers.has('ratelimit'))).toBe(false);
    }
  });
});

describe('with an injected clock', () => {
  let c: LimitedApp;
  let nowMs = 0;
  beforeAll(async () => {
    c = await startLimitedApp({ RATE_LIMIT_MAX: '20' }, { now: () => nowMs });
  });
  afterAll(() => c?.close());

  it('does not hand out a second quota across a window boundary', async () => {
    const headers = clientHeaders(freshIp());
    nowMs = 59_900;
    const before = await Promise.all(Array.from({ length: 20 }, () => hit(`${c.baseUrl}/api/products`, { headers })));
    expect(before.every((a) => a.status === 200)).toBe(true);
    nowMs = 60_100;
    const after = await Promise.all(Array.from({ length: 20 }, () => hit(`${c.baseUrl}/api/products`, { headers })));
    expect(after.filter((a) => a.status === 200)).toHaveLength(0);
    expect(Number(after[0]!.headers.get('retry-after'))).toBe(3);
    nowMs = 59_900 + 3000;
    expect((await hit(`${c.baseUrl}/api/products`, { headers })).status).toBe(200);
    expect((await hit(`${c.baseUrl}/api/products`, { headers })).status).toBe(429);
  });
});

describe('when disabled', () => {
  let d: LimitedApp;
  beforeAll(async () => {
    d = await startLimitedApp({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_MAX: '1' });
  });
  afterAll(() => d?.close());

  it('limits nothing, sends no fields and adds no hook', async () => {
    const headers = clientHeaders(freshIp());
    const answers = await Promise.all(Array.from({ length: 10 }, () => hit(`${d.baseUrl}/api/products`, { headers })));
    expect(answers.every((a) => a.status === 200 && !a.headers.has('ratelimit'))).toBe(true);
    expect(d.app.printRoutes({ commonPrefix: false, includeHooks: true })).not.toContain('onRequest');
    expect(d.limiter.stats).toMatchObject({ admitted: 0, limited: 0, mode: 'memory' });
  });
});

describe('registered inside a scope, as in the /api scope of the server', () => {
  it('limits the routes of that scope only', async () => {
    const limiter = createRateLimiter(loadConfig({ RATE_LIMIT_MAX: '1' }), { logger: captureLogs().logger });
    const app = Fastify();
    app.setErrorHandler(createErrorHandler());
    app.get('/api/health', async () => 'ok');
    await app.register(
      async (scope) => {
        await scope.register(limiter.plugin);
        scope.get('/products', async () => 'products');
      },
      { prefix: '/api' },
    );
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
      expect((await hit(`${base}/api/products`)).status).toBe(200);
      expect((await hit(`${base}/api/products`)).status).toBe(429);
      expect((await hit(`${base}/api/health`)).status).toBe(200);
      const routes = app.printRoutes({ commonPrefix: false, includeHooks: true }).split('\n');
      const health = routes.findIndex((line) => line.includes('/api/health (GET)'));
      expect(routes[health + 1] ?? '').not.toContain('•');
    } finally {
      await app.close();
      await limiter.close();
    }
  });
});
