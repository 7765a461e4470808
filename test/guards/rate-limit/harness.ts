/**
 * A tiny Fastify app with the rate limiter and the server's real error
 * handler, on a real socket, for the rate-limit suites: routes for reads,
 * writes and the operational paths, and distinct clients per test through
 * X-Forwarded-For (trustProxy is on, as behind a load balancer).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../../src/config/index.ts';
import { createRateLimiter, type RateLimiter, type RateLimiterDeps } from '../../../src/guards/rate-limit/index.ts';
import { createErrorHandler, createNotFoundHandler } from '../../../src/http/error-handler.ts';
import { captureLogs, type CapturedLogs } from '../../helpers/logs.ts';

export interface LimitedApp {
  baseUrl: string;
  app: FastifyInstance;
  limiter: RateLimiter;
  config: Config;
  logs: CapturedLogs;
  close(): Promise<void>;
}

/**
 * @example
 * const t = await startLimitedApp({ RATE_LIMIT_MAX: '20' });
 * await fetch(`${t.baseUrl}/api/products`, { headers: clientHeaders('203.0.113.7') });
 */
export async function startLimitedApp(env: Record<string, string> = {}, deps: Partial<RateLimiterDeps> = {}): Promise<LimitedApp> {
  const config = loadConfig({ RATE_LIMIT_MAX: '20', RATE_LIMIT_WRITE_MAX: '5', RATE_LIMIT_WINDOW_S: '60', ...env });
  const logs = captureLogs('info');
  const limiter = createRateLimiter(config, { logger: logs.logger, ...deps });
  const app = Fastify({ trustProxy: true });
  app.setErrorHandler(createErrorHandler());
  app.setNotFoundHandler(createNotFoundHandler());
  await app.register(limiter.plugin);
  app.get('/api/products', async () => ({ ok: true }));
  app.post('/api/orders', async () => ({ ok: true }));
  app.get('/api/health', async () => ({ status: 'ok' }));
  app.get('/api/ready', async () => ({ status: 'ready' }));
  app.get('/metrics', async () => 'metrics');
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    app,
    limiter,
    config,
    logs,
    close: async () => {
      await app.close();
      await limiter.close();
    },
  };
}

/** Headers that make a request come from `ip` (and optionally carry an API key). */
export function clientHeaders(ip: string, apiKey?: string): Record<string, string> {
  return apiKey === undefined ? { 'x-forwarded-for': ip } : { 'x-forwarded-for': ip, authorization: `Bearer ${apiKey}` };
}

let next = 0;
/** A documentation-range IPv4 address no other test in this process uses. */
export function freshIp(): string {
  next += 1;
  return `198.18.${(next >> 8) & 0xff}.${next & 0xff}`;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  ms: number;
}

/** One request, timed, body parsed when JSON. */
export async function hit(url: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, init);
  const text = await res.text();
  const ms = performance.now() - started;
  const body = (res.headers.get('content-type') ?? '').includes('json') && text !== '' ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body, ms };
}
