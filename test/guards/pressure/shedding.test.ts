/**
 * Shedding over real sockets: while critical, API routes answer 503
 * OVERLOADED with Retry-After; health, readiness, metrics and admin keep
 * answering; recovery follows the hysteresis rule.
 */
import { Type, type Static } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createPressureMonitor, type PressureMonitor } from '../../../src/guards/pressure/monitor.ts';
import { PressureSnapshotSchema } from '../../../src/guards/pressure/schema.ts';
import { createErrorHandler, createNotFoundHandler } from '../../../src/http/error-handler.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { expectProblem, request } from '../../helpers/http.ts';
import { defaultSettings, scriptedSampler } from './fixtures.ts';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function serve(monitor: PressureMonitor, layout: 'root' | 'api-scope' = 'root'): Promise<string> {
  const app = Fastify();
  apps.push(app);
  app.setErrorHandler(createErrorHandler());
  app.setNotFoundHandler(createNotFoundHandler());
  const ok = async () => ({ ok: true });
  if (layout === 'root') {
    await app.register(monitor.plugin);
    app.get('/api/health', async () => ({ status: 'ok', pressure: monitor.snapshot() }));
    app.get('/api/ready', ok);
    app.get('/api/products', ok);
    app.post('/api/orders', ok);
    app.get('/metrics', ok);
    app.get('/admin/pressure', ok);
    app.get('/admin', ok);
    app.get('/administrator', ok);
  } else {
    // The server's layout: health at the root with no hooks, the rest in /api.
    app.get('/api/health', ok);
    await app.register(
      async (api) => {
        await api.register(monitor.plugin);
        api.get('/ready', ok);
        api.get('/products', ok);
      },
      { prefix: '/api' },
    );
  }
  return await app.listen({ port: 0, host: '127.0.0.1' });
}

function setup() {
  const sampler = scriptedSampler();
  const monitor = createPressureMonitor(defaultSettings(), { logger: captureLogs().logger, sample: sampler.sample });
  return { sampler, monitor };
}

describe('load shedding', () => {
  it('refuses API routes with 503 OVERLOADED and Retry-After while health and operations routes answer', async () => {
    const { monitor } = setup();
    const base = await serve(monitor);
    expect((await request(`${base}/api/products`)).status).toBe(200);

    monitor.setThresholds({ memoryWarnMb: 1, memoryCriticalMb: 2 }); // rss 100 MB is now far over
    expect(monitor.tick().state).toBe('critical');

    const refused = await request(`${base}/api/products?limit=5`);
    const problem = expectProblem(refused, 503, 'OVERLOADED');
    expect(refused.headers.get('retry-after')).toBe('3'); // 3 calm samples of 1 s
    expect(problem.detail).toMatch(/resident memory/);
    expect(problem.detail).not.toMatch(/\d+\.\d MB/); // numbers stay in logs and health
    expect(problem.instance).toBe('/api/products');
    expectProblem(await request(`${base}/api/orders`, { method: 'POST' }), 503, 'OVERLOADED');
    expectProblem(await request(`${base}/administrator`), 503, 'OVERLOADED'); // not under /admin/
    expectProblem(await request(`${base}/no/such/route`), 503, 'OVERLOADED');

    const health = await request(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(health.body.pressure).toMatchObject({ state: 'critical', reasons: [expect.stringMatching(/^rss /)] });
    for (const path of ['/api/ready', '/metrics', '/admin/pressure', '/admin', '/api/health?verbose=1']) {
      expect((await request(`${base}${path}`)).status, path).toBe(200);
    }
    expect(monitor.shed).toBe(4);
  });

  it('recovers when thresholds are raised, after the hysteresis samples, not before', async () => {
    const { monitor } = setup();
    const base = await serve(monitor);
    monitor.setThresholds({ memoryWarnMb: 1, memoryCriticalMb: 2 });
    monitor.tick();
    monitor.setThresholds({ memoryWarnMb: 10_000, memoryCriticalMb: 20_000 });

    monitor.tick();
    expectProblem(await request(`${base}/api/products`), 503, 'OVERLOADED');
    monitor.tick();
    expectProblem(await request(`${base}/api/products`), 503, 'OVERLOADED');
    monitor.tick();
    expect(monitor.state()).toBe('ok');
    expect((await request(`${base}/api/products`)).status).toBe(200);
    expect(monitor.shed).toBe(2);
  });

  it('recovers when the pressure ends, and does not flap while it hovers', async () => {
    const { monitor, sampler } = setup();
    const base = await serve(monitor);
    sampler.set({ eventLoopDelayP99Ms: 1500 });
    monitor.tick();
    expectProblem(await request(`${base}/api/products`), 503, 'OVERLOADED');

    // Hovering between 90% and 100% of the 1000 ms limit, and dipping once: still shedding.
    for (const ms of [950, 990, 400, 920, 999]) {
      sampler.set({ eventLoopDelayP99Ms: ms });
      expect(monitor.tick().state).toBe('critical');
      expectProblem(await request(`${base}/api/products`), 503, 'OVERLOADED');
    }
    sampler.set({ eventLoopDelayP99Ms: 20 });
    monitor.tick();
    monitor.tick();
    expect(monitor.state()).toBe('critical');
    monitor.tick();
    expect(monitor.state()).toBe('ok');
    expect((await request(`${base}/api/products`)).status).toBe(200);
  });

  it('works registered inside the /api scope, leaving root routes hook-free', async () => {
    const { monitor, sampler } = setup();
    const base = await serve(monitor, 'api-scope');
    sampler.set({ rssMb: 5000 });
    monitor.tick();
    expectProblem(await request(`${base}/api/products`), 503, 'OVERLOADED');
    expect((await request(`${base}/api/ready`)).status).toBe(200);
    expect((await request(`${base}/api/health`)).status).toBe(200);
  });

  it('does not shed in the warning state', async () => {
    const { monitor, sampler } = setup();
    const base = await serve(monitor);
    sampler.set({ rssMb: 700 });
    expect(monitor.tick().state).toBe('warning');
    expect((await request(`${base}/api/products`)).status).toBe(200);
    expect(monitor.shed).toBe(0);
  });

  it('publishes the snapshot through a response schema unchanged', async () => {
    const { monitor, sampler } = setup();
    const app = Fastify();
    apps.push(app);
    app.get(
      '/api/health',
      { schema: { response: { 200: Type.Object({ status: Type.String(), pressure: PressureSnapshotSchema }) } } },
      async () => ({ status: monitor.state() === 'ok' ? 'ok' : 'degraded', pressure: monitor.snapshot() }),
    );
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    sampler.set({ rssMb: 700.25, eventLoopUtilization: 0.5 });
    const typed: Static<typeof PressureSnapshotSchema> = monitor.tick(); // the types agree too
    const health = await request(`${base}/api/health`);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'degraded', pressure: typed });
    expect(health.body.pressure.reasons[0]).toMatch(/^rss 700\.3 MB ≥ warning 512\.0 MB$/);
  });
});
