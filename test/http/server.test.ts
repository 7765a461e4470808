import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { expectProblem, request } from '../helpers/http.ts';
import { TEST } from '../helpers/context.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

describe('the HTTP server', () => {
  it('answers an unknown route or method with 404 ROUTE_NOT_FOUND', async () => {
    const unknown = expectProblem(await request(`${app.baseUrl}/api/nope?x=1`), 404, 'ROUTE_NOT_FOUND');
    expect(unknown.instance).toBe('/api/nope');
    expectProblem(await request(`${app.baseUrl}/`), 404, 'ROUTE_NOT_FOUND');
    expectProblem(await request(`${app.baseUrl}/api/products`, { method: 'DELETE' }), 404, 'ROUTE_NOT_FOUND');
  });

  it('uses a sane incoming X-Request-Id in problem documents and replaces an unsafe one', async () => {
    const kept = expectProblem(
      await request(`${app.baseUrl}/api/nope`, { headers: { 'x-request-id': 'trace-abc.1' } }),
      404,
      'ROUTE_NOT_FOUND',
    );
    expect(kept.requestId).toBe('trace-abc.1');
    const replaced = await request(`${app.baseUrl}/api/products`, { headers: { 'x-request-id': 'x'.repeat(500) } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a malformed URL with a 400 problem', async () => {
    const res = await request(`${app.baseUrl}/api/products/%E0%A4%A`);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('answers an unexpected failure with 500 INTERNAL, logs the stack, and sends no internals', async () => {
    const local = await startTestApp();
    try {
      await local.pool.query(TEST, { text: 'DROP TABLE order_items, idempotency_keys, orders, products CASCADE' });
      const res = await request(`${local.baseUrl}/api/products`, { headers: { 'x-request-id': 'boom-1' } });
      const problem = expectProblem(res, 500, 'INTERNAL');
      expect(Object.keys(problem).sort()).toEqual(['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type']);
      expect(res.text).not.toMatch(/relation|does not exist|42P01|\.ts/);
      expect(problem.detail).toMatch(/unexpected/);
      const logged = local.logs.lines.find((l) => l.msg === 'unhandled error');
      expect(logged).toMatchObject({ level: 50, requestId: 'boom-1' });
      expect(JSON.stringify(logged)).toMatch(/relation \\"products\\" does not exist/);
      expect((logged!.err as { stack?: string }).stack).toMatch(/at /);
    } finally {
      await local.close();
    }
  });

  it('answers 503 with Retry-After when the pool refuses, and logs no secret', async () => {
    const local = await startTestApp();
    try {
      await local.pool.end(0);
      const res = await request(`${local.baseUrl}/api/products`);
      expectProblem(res, 503, 'POOL_CLOSED');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body.retryAfterSeconds).toBe(1);
      expect(local.logs.raw()).not.toContain(local.database.url);
      expect(local.logs.raw()).not.toContain('test-cursor-secret');
    } finally {
      await local.close();
    }
  });
});
