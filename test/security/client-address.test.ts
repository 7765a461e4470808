/**
 * Finding 5: behind TRUST_PROXY hops, the client address is the rightmost
 * address the trusted proxies did not add, so a client that writes its own
 * X-Forwarded-For is still limited by the address the proxy saw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem, request } from '../helpers/http.ts';

describe('TRUST_PROXY=1 (one proxy in front)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ env: { TRUST_PROXY: '1', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '3' } });
  });
  afterAll(() => app?.close());

  it('limits a client that sends X-Forwarded-For: spoof by its real address', async () => {
    // The proxy (this test's socket) appends the address it saw to what the client sent.
    const through = (spoof: string, real: string) =>
      request(`${app.baseUrl}/api/products`, { headers: { 'x-forwarded-for': `${spoof}, ${real}` } });
    for (let i = 0; i < 3; i++) expect((await through(`198.51.100.${i}`, '203.0.113.77')).status).toBe(200);
    expectProblem(await through('spoof', '203.0.113.77'), 429, 'RATE_LIMITED');
    expectProblem(await through('198.51.100.99', '203.0.113.77'), 429, 'RATE_LIMITED');
    // Another real client is its own quota.
    expect((await through('203.0.113.77', '203.0.113.78')).status).toBe(200);
  });
});
