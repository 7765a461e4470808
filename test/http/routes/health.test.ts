import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { createPressureMonitor } from '../../../src/guards/pressure/monitor.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { healthRoutes } from '../../../src/http/routes/health.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { request } from '../../helpers/http.ts';
import { TEST } from '../../helpers/context.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

describe('GET /api/health', () => {
  it('reports ok and the pool gauges', async () => {
    const res = await request(`${app.baseUrl}/api/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      status: 'ok',
      uptimeSeconds: expect.any(Number),
      pool: { min: 1, max: 5, limit: 5, size: app.pool.size, idle: app.pool.idle, active: 0, waiting: 0 },
      pressure: expect.objectContaining({ state: 'ok', reasons: [], leakSuspected: false }),
    });
    expect(res.body.pressure.rssMb).toBeGreaterThan(0);
    expect(Number.isInteger(res.body.uptimeSeconds)).toBe(true);
  });

  it('runs no query and borrows no connection, however often it is called', async () => {
    const queries = app.queryCount();
    const acquires = app.pool.counters.acquires;
    const answers = await Promise.all(Array.from({ length: 100 }, () => request(`${app.baseUrl}/api/health`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(app.queryCount()).toBe(queries);
    expect(app.pool.counters.acquires).toBe(acquires);
  });

  it('runs no hooks', () => {
    // Hooks are listed as "• (hookName) [...]" lines under their route.
    const lines = app.server.printRoutes({ commonPrefix: false, includeHooks: true }).split('\n');
    const route = lines.findIndex((line) => line.includes('/api/health (GET)'));
    expect(route).toBeGreaterThanOrEqual(0);
    expect(lines[route + 1]).not.toContain('•');
    // The check itself can see hooks: the products route has the request-id hook.
    const products = lines.findIndex((line) => line.includes('/api/products (GET)'));
    expect(lines[products + 1]).toContain('(onRequest)');
  });

  it('echoes a sane X-Request-Id and generates one otherwise', async () => {
    const given = await request(`${app.baseUrl}/api/health`, { headers: { 'x-request-id': 'lb-probe-7' } });
    expect(given.headers.get('x-request-id')).toBe('lb-probe-7');
    const generated = await request(`${app.baseUrl}/api/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is degraded while requests wait for a connection', async () => {
    const leases = await Promise.all(Array.from({ length: app.pool.max }, () => app.pool.acquire(TEST)));
    const waiting = app.pool.query(TEST, { text: 'SELECT 1' });
    try {
      const res = await request(`${app.baseUrl}/api/health`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('degraded');
      expect(res.body.pool).toMatchObject({ size: 5, active: 5, idle: 0, waiting: 1 });
    } finally {
      for (const lease of leases) lease.release();
      await waiting;
    }
    expect((await request(`${app.baseUrl}/api/health`)).body.status).toBe('ok');
  });

  it('is degraded when the pool has fewer connections than its minimum', async () => {
    // Gauges only: a real pool refills too fast to observe below min reliably.
    const server = Fastify();
    const pressure = createPressureMonitor(loadConfig({}).pressure, { logger: createLogger('silent') });
    await server.register(healthRoutes({ pool: { min: 2, max: 5, limit: 5, size: 1, idle: 1, active: 0, waiting: 0 }, pressure }), {
      prefix: '/api',
    });
    try {
      const res = await server.inject({ url: '/api/health' });
      expect(res.json()).toMatchObject({ status: 'degraded', pool: { min: 2, size: 1 } });
    } finally {
      await server.close();
    }
  });

  it('shows each database host with its role, and is degraded while none is selected (failover)', async () => {
    const server = Fastify();
    const pressure = createPressureMonitor(loadConfig({}).pressure, { logger: createLogger('silent') });
    const hosts = [
      { label: 'h1:5432', role: 'unreachable' as const, selected: false },
      { label: 'h2:5432', role: 'standby' as const, selected: false },
    ];
    const pool = { min: 1, max: 5, limit: 5, size: 1, idle: 1, active: 0, waiting: 0, hosts };
    await server.register(healthRoutes({ pool, pressure }), { prefix: '/api' });
    try {
      expect((await server.inject({ url: '/api/health' })).json()).toMatchObject({
        status: 'degraded',
        hosts: [
          { host: 'h1:5432', role: 'unreachable', selected: false },
          { host: 'h2:5432', role: 'standby', selected: false },
        ],
      });
      hosts[1] = { label: 'h2:5432', role: 'primary' as never, selected: true };
      expect((await server.inject({ url: '/api/health' })).json()).toMatchObject({ status: 'ok' });
    } finally {
      await server.close();
    }
  });
});
