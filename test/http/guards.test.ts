import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

// The guards as the composition root wires them: real app, real sockets.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(env: Record<string, string>): Promise<TestApp> {
  const app = await startTestApp({ env });
  apps.push(app);
  return app;
}

describe('rate limiting in the running service', () => {
  it('RATE_LIMIT_MAX=20 per 60 s: 30 rapid requests → exactly 20 admitted, 10 × 429 with Retry-After and RateLimit headers; health unaffected', async () => {
    const app = await start({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '20', RATE_LIMIT_WINDOW_S: '60' });
    const answers = [];
    for (let i = 0; i < 30; i++) answers.push(await fetch(`${app.baseUrl}/api/products`));
    const admitted = answers.filter((r) => r.status === 200);
    const refused = answers.filter((r) => r.status === 429);
    expect(admitted).toHaveLength(20);
    expect(refused).toHaveLength(10);
    for (const r of refused) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.headers.get('ratelimit-policy')).toBe('"default";q=20;w=60');
      expect(r.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await r.json()) as { code: string }).code).toBe('RATE_LIMITED');
    }
    expect(admitted[0]!.headers.get('ratelimit')).toMatch(/^"default";r=19;t=\d+$/);
    for (let i = 0; i < 50; i++) expect((await fetch(`${app.baseUrl}/api/health`)).status).toBe(200);
  });
});

describe('load shedding in the running service', () => {
  it('with a critical memory threshold below RSS, the API answers 503 OVERLOADED while health answers 200 and says why', async () => {
    const app = await start({ MEMORY_WARN_MB: '1', MEMORY_CRITICAL_MB: '1', MEMORY_SAMPLE_MS: '50' });
    await new Promise((r) => setTimeout(r, 150));
    const res = await fetch(`${app.baseUrl}/api/products`);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { code: string }).code).toBe('OVERLOADED');
    const health = await fetch(`${app.baseUrl}/api/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; pressure: { state: string; reasons: string[] } };
    expect(body.status).toBe('degraded');
    expect(body.pressure.state).toBe('critical');
    expect(body.pressure.reasons.join(' ')).toMatch(/rss/i);
    expect((await fetch(`${app.baseUrl}/metrics`)).status).toBe(200);
    expect((await fetch(`${app.baseUrl}/api/ready`)).status).toBe(200);
  });
});
