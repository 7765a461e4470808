import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem, request } from '../../helpers/http.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

const probes = (): number => app.statements().filter((s) => s === 'SELECT 1').length;

describe('GET /api/ready', () => {
  it('is 200 when the database answers', async () => {
    const res = await request(`${app.baseUrl}/api/ready`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready' });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('costs at most one query per second under a flood of probes', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // let the cached answer expire
    const before = probes();
    const answers = await Promise.all(Array.from({ length: 100 }, () => request(`${app.baseUrl}/api/ready`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(probes() - before).toBe(1);
  });

  it('is 503 NOT_READY once the service is shutting down', async () => {
    const local = await startTestApp();
    try {
      local.lifecycle.beginShutdown();
      const res = await request(`${local.baseUrl}/api/ready`);
      const problem = expectProblem(res, 503, 'NOT_READY');
      expect(res.headers.get('retry-after')).toBe('1');
      expect(problem.detail).toMatch(/shutting down/);
    } finally {
      await local.close();
    }
  });

  it('is 503 NOT_READY when the database cannot be reached', async () => {
    const local = await startTestApp();
    try {
      await local.pool.end(0);
      const res = await request(`${local.baseUrl}/api/ready`);
      expectProblem(res, 503, 'NOT_READY');
    } finally {
      await local.close();
    }
  });
});
