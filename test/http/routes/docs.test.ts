import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { request } from '../../helpers/http.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

describe('API documentation', () => {
  it('serves an OpenAPI 3 document describing every endpoint, its parameters and problem answers', async () => {
    const res = await request(`${app.baseUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/customers/{id}',
      '/api/customers/{id}/orders',
      '/api/health',
      '/api/orders',
      '/api/products',
      '/api/products/{id}',
      '/api/ready',
      '/api/reports/top-products',
    ]);
    const list = doc.paths['/api/products'].get;
    expect(list.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['category', 'cursor', 'limit', 'q']);
    expect(list.responses['400'].content['application/problem+json'].schema.properties.code.enum).toContain('BAD_CURSOR');
    const place = doc.paths['/api/orders'].post;
    expect(place.requestBody.content['application/json'].schema.required).toEqual(['customerId', 'items']);
    expect(place.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toContain('header:idempotency-key');
    expect(Object.keys(place.responses)).toEqual(expect.arrayContaining(['201', '409', '422', '503']));
  });

  it('serves the Swagger UI page and its assets', async () => {
    const page = await request(`${app.baseUrl}/api/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const css = page.text.match(/href="([^"]+swagger-ui\.css)"/)?.[1];
    expect(css).toBe('/api/docs/static/swagger-ui.css');
    expect((await request(`${app.baseUrl}${css}`)).status).toBe(200);
  });
});
