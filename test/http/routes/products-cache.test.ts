import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { insertProducts } from '../../helpers/store-fixtures.ts';

// GET /api/products/:id with the in-memory cache on (the defaults): once a
// product is admitted (asked for twice), concurrent gets are answered from
// memory, together (src/cache/hit-burst.ts), with no statement, the same
// body and the same ETag as the database's answer.

let app: TestApp;
let ids: number[];

beforeAll(async () => {
  app = await startTestApp({ env: { CACHE_ENABLED: 'true', CACHE_ADMISSION_THRESHOLD: '2' } });
  ids = await insertProducts(app.pool, 3, () => '2024-04-01T00:00:00Z', 'cached-http');
});
afterAll(() => app?.close());

/** Statements run since `from`, without the plan sampler's EXPLAINs (off the request path). */
const readsSince = (from: number): number =>
  app
    .statements()
    .slice(from)
    .filter((s) => !s.startsWith('EXPLAIN')).length;

describe('cached product reads over HTTP', () => {
  it('answers 50 concurrent gets of an admitted product from memory, identical to the database answer', async () => {
    const id = ids[0]!;
    const fromDb = await fetch(`${app.baseUrl}/api/products/${id}`); // first sight: read, not stored
    const stored = await fetch(`${app.baseUrl}/api/products/${id}`); // asked again: read and stored
    const body = await fromDb.text();
    expect(await stored.text()).toBe(body);
    const before = app.statements().length;
    const responses = await Promise.all(Array.from({ length: 50 }, () => fetch(`${app.baseUrl}/api/products/${id}`)));
    expect(readsSince(before)).toBe(0);
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(new Set(await Promise.all(responses.map((r) => r.text())))).toEqual(new Set([body]));
    expect(new Set(responses.map((r) => r.headers.get('etag')))).toEqual(new Set([fromDb.headers.get('etag')]));
  });

  it('a product asked for once is read from the database every time until asked for again', async () => {
    const id = ids[1]!;
    const before = app.statements().length;
    expect((await fetch(`${app.baseUrl}/api/products/${id}`)).status).toBe(200);
    expect(readsSince(before)).toBe(1);
    await fetch(`${app.baseUrl}/api/products/${id}`);
    await fetch(`${app.baseUrl}/api/products/${id}`);
    expect(readsSince(before)).toBe(2); // the third get was a hit
  });
});
