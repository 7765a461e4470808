import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

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
    expect([...m.keys()].some((k) => k.startsWith('holdfast_http_request_duration_seconds_count') && k.includes('route="/api/products/:id"'))).toBe(true);
    expect([...m.keys()].some((k) => k.includes('/api/products/1'))).toBe(false);
  });

  it('shows the pool gauges moving under load', async () => {
    const app = await startTestApp();
    apps.push(app);
    // Hold every connection so the requests below must queue.
    const leases = await Promise.all(Array.from({ length: 5 }, () => app.pool.acquire()));
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
    const app = await startTestApp({ env: { METRICS_TOKEN: 'metrics-secret-0123456789', RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '1' } });
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
