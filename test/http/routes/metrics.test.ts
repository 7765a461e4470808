import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createErrorHandler } from '../../../src/http/error-handler.ts';
import { metricsRoutes } from '../../../src/http/routes/metrics.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { TEST } from '../../helpers/context.ts';
import { lenientAuthFailures } from '../../helpers/auth-failures.ts';

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** Parses the Prometheus text format into name{labels} → value, failing on any malformed line (Prometheus reads floats as Go's ParseFloat does, so `Nan` is valid). */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|Nan|\+Inf|-Inf)$/.exec(line);
    if (match === null) throw new Error(`not Prometheus text: ${line}`);
    samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

describe('GET /metrics', () => {
  it('serves parseable Prometheus text with the pool, HTTP, guard and default Node metrics', async () => {
    const app = await startTestApp();
    apps.push(app);
    await fetch(`${app.baseUrl}/api/products/1`);
    const res = await fetch(`${app.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const m = parsePrometheus(await res.text());
    for (const name of [
      'holdfast_db_pool_connections',
      'holdfast_db_pool_connections_active',
      'holdfast_db_pool_connections_idle',
      'holdfast_db_pool_waiting',
      'holdfast_db_pool_max',
      'holdfast_db_pool_timeouts_total',
      'holdfast_db_pool_queue_full_total',
      'holdfast_db_pool_acquire_seconds_count',
      'holdfast_rate_limit_limited_total',
      'holdfast_pressure_shed_requests_total',
      'holdfast_pressure_event_loop_utilization',
      'holdfast_process_resident_memory_bytes',
    ]) {
      expect(m.has(name), name).toBe(true);
    }
    expect(m.get('holdfast_db_pool_max')).toBe(5);
    // The route pattern, never the raw URL.
    expect(
      [...m.keys()].some((k) => k.startsWith('holdfast_http_request_duration_seconds_count') && k.includes('route="/api/products/:id"')),
    ).toBe(true);
    expect([...m.keys()].some((k) => k.includes('/api/products/1'))).toBe(false);
  });

  it('shows the pool gauges moving under load', async () => {
    const app = await startTestApp();
    apps.push(app);
    // Hold every connection so the requests below must queue.
    const leases = await Promise.all(Array.from({ length: 5 }, () => app.pool.acquire(TEST)));
    // Distinct ids: the cache would merge concurrent misses for one key into one query.
    const waiting = [1, 2, 3, 4].map((id) => fetch(`${app.baseUrl}/api/products/${id}`));
    let busy: Map<string, number>;
    try {
      await new Promise((r) => setTimeout(r, 100));
      busy = parsePrometheus(await (await fetch(`${app.baseUrl}/metrics`)).text());
    } finally {
      for (const l of leases) l.release();
      await Promise.all(waiting);
    }
    expect(busy.get('holdfast_db_pool_connections_active')).toBe(5);
    expect(busy.get('holdfast_db_pool_waiting')).toBe(4);
    const calm = parsePrometheus(await (await fetch(`${app.baseUrl}/metrics`)).text());
    expect(calm.get('holdfast_db_pool_connections_active')).toBe(0);
    expect(calm.get('holdfast_db_pool_waiting')).toBe(0);
    expect(calm.get('holdfast_db_pool_acquire_seconds_count')!).toBeGreaterThan(busy.get('holdfast_db_pool_acquire_seconds_count')! - 1);
  });

  it('requires the bearer token when METRICS_TOKEN is set, and is never rate limited', async () => {
    const app = await startTestApp({
      env: { METRICS_TOKEN: 'metrics-secret-0123456789', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '1' },
    });
    apps.push(app);
    const missing = await fetch(`${app.baseUrl}/metrics`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    for (let i = 0; i < 5; i++) {
      expect((await fetch(`${app.baseUrl}/metrics`, { headers: { authorization: 'Bearer metrics-secret-0123456789' } })).status).toBe(200);
    }
  });
});

describe('GET /metrics without METRICS_TOKEN', () => {
  /** The route alone, answered through Fastify's injection so the client address can be chosen. */
  async function scrape(remoteAddress: string, options: { trustProxy?: boolean; forwardedFor?: string } = {}) {
    const app = Fastify({ trustProxy: options.trustProxy ?? false });
    app.setErrorHandler(createErrorHandler());
    await app.register(metricsRoutes({ registry: new Registry(), token: undefined, authFailures: lenientAuthFailures() }));
    const headers = options.forwardedFor === undefined ? {} : { 'x-forwarded-for': options.forwardedFor };
    const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });
    await app.close();
    return res;
  }

  it('is served to loopback clients (IPv4, IPv6, IPv4-mapped)', async () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      expect((await scrape(address)).statusCode, address).toBe(200);
    }
  });

  it('is refused with 403 FORBIDDEN to any other client, directly or through a trusted proxy', async () => {
    for (const res of [
      await scrape('10.0.0.7'),
      await scrape('203.0.113.9'),
      await scrape('::ffff:192.0.2.1'),
      // A proxy on this host forwarding an outside client.
      await scrape('127.0.0.1', { trustProxy: true, forwardedFor: '203.0.113.9' }),
    ]) {
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'FORBIDDEN' });
      expect(res.body).not.toContain('process_');
    }
  });
});
