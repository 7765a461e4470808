/**
 * The database-time budget (RATE_LIMIT_DB_MS_PER_MINUTE): a client is
 * charged, after each response, the database time the profiler measured for
 * it, and refused while it owes more than a window's worth. The route here
 * books its "measured" time on the request's query context directly, so no
 * database is needed; the limiter's clock is injected.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { createRateLimiter, type RateLimiter } from '../../../src/guards/rate-limit/index.ts';
import { createErrorHandler } from '../../../src/http/error-handler.ts';
import { queryProfilerPlugin } from '../../../src/profiler/request-plugin.ts';
import { openedContext } from '../../../src/http/context.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { clientHeaders, freshIp, hit } from './harness.ts';
import { parseSfList } from './structured-fields.ts';

let app: FastifyInstance;
let limiter: RateLimiter;
let baseUrl: string;
let nowMs = 1_000_000;

async function start(env: Record<string, string>): Promise<{ app: FastifyInstance; limiter: RateLimiter; baseUrl: string }> {
  const config = loadConfig({ RATE_LIMIT_MAX: '1000', RATE_LIMIT_WINDOW_S: '60', ...env });
  const limiter = createRateLimiter(config, { logger: captureLogs('info').logger, now: () => nowMs });
  const app = Fastify({ trustProxy: true });
  app.setErrorHandler(createErrorHandler());
  await app.register(queryProfilerPlugin({ requestFinished: () => undefined }));
  await app.register(limiter.plugin);
  app.get('/api/report', async (request) => {
    openedContext(request)!.accounts[0]!.dbMs += 400; // as if its statements took 400 ms
    return { ok: true };
  });
  app.get('/api/cheap', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return { app, limiter, baseUrl: `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}` };
}

beforeAll(async () => {
  ({ app, limiter, baseUrl } = await start({ RATE_LIMIT_DB_MS_PER_MINUTE: '1000' }));
});
afterAll(async () => {
  await app?.close();
  await limiter?.close();
});

describe('database-time budget', () => {
  it('charges measured database time after the response and refuses a client in debt until it is repaid', async () => {
    const headers = clientHeaders(freshIp());
    // 400 ms each of 1000 ms/min: the third request still finds the client within budget, and puts it in debt.
    for (let i = 0; i < 3; i++) expect((await hit(`${baseUrl}/api/report`, { headers })).status).toBe(200);
    const refused = await hit(`${baseUrl}/api/cheap`, { headers });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('RATE_LIMITED');
    expect(refused.body.detail).toMatch(/database time/);
    expect(Number(refused.headers.get('retry-after'))).toBe(12); // 1200 ms owed of 1000: 200 ms at 1000 ms/60 s
    // Another client is not affected.
    expect((await hit(`${baseUrl}/api/report`, { headers: clientHeaders(freshIp()) })).status).toBe(200);
    nowMs += 12_000;
    expect((await hit(`${baseUrl}/api/cheap`, { headers })).status).toBe(200);
  });

  it('exposes the budget as a second policy in RateLimit-Policy and RateLimit', async () => {
    const headers = clientHeaders(freshIp());
    await hit(`${baseUrl}/api/report`, { headers });
    const answer = await hit(`${baseUrl}/api/cheap`, { headers });
    const policy = parseSfList(answer.headers.get('ratelimit-policy')!);
    expect(policy.map((p) => [p.value, p.params.get('q'), p.params.get('w')])).toEqual([
      ['default', 1000, 60],
      ['db', 1000, 60],
    ]);
    const limit = parseSfList(answer.headers.get('ratelimit')!);
    expect(limit.map((l) => l.value)).toEqual(['default', 'db']);
    expect(limit[1]!.params.get('r')).toBe(600); // ms of database time left
  });

  it('is off by default: no db policy, and database time costs nothing', async () => {
    const off = await start({});
    try {
      const headers = clientHeaders(freshIp());
      for (let i = 0; i < 5; i++) expect((await hit(`${off.baseUrl}/api/report`, { headers })).status).toBe(200);
      expect(parseSfList((await hit(`${off.baseUrl}/api/cheap`, { headers })).headers.get('ratelimit-policy')!)).toHaveLength(1);
    } finally {
      await off.app.close();
      await off.limiter.close();
    }
  });
});
