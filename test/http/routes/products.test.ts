import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem, request, type Answer } from '../../helpers/http.ts';
import { insertProduct, insertProducts } from '../../helpers/store-fixtures.ts';
import { TEST } from '../../helpers/context.ts';

let app: TestApp;
let url: (path: string) => string;
beforeAll(async () => {
  app = await startTestApp();
  url = (path) => `${app.baseUrl}${path}`;
});
afterAll(() => app?.close());

describe('GET /api/products/:id', () => {
  it('returns the product', async () => {
    const id = await insertProduct(app.pool, { name: 'Claw hammer', category: 'tools', priceCents: 1999, stock: 7, sku: 'HAM-1' });
    const res = await request(url(`/api/products/${id}`));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id,
      sku: 'HAM-1',
      name: 'Claw hammer',
      category: 'tools',
      priceCents: 1999,
      stock: 7,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
    });
  });

  it('is 404 NOT_FOUND for an id that does not exist', async () => {
    const problem = expectProblem(await request(url('/api/products/987654321')), 404, 'NOT_FOUND');
    expect(problem.instance).toBe('/api/products/987654321');
  });

  it.each(['abc', '0', '-1', '1.5', '99999999999999999999', '1e400', '0x10'])('is 400 VALIDATION_FAILED for id %s', async (id) => {
    const problem = expectProblem(await request(url(`/api/products/${id}`)), 400, 'VALIDATION_FAILED');
    expect(problem.field).toBe('params.id');
  });
});

describe('GET /api/products', () => {
  it('filters by category and by case-insensitive name substring, with % and _ taken literally', async () => {
    const category = 'literal-match';
    const percent = await insertProduct(app.pool, { category, name: 'Save 50% NOW' });
    const underscore = await insertProduct(app.pool, { category, name: 'snake_case widget' });
    const plain = await insertProduct(app.pool, { category, name: 'Plain widget' });
    await insertProduct(app.pool, { category: 'elsewhere', name: 'Other widget' });

    const ids = async (query: string) =>
      ((await request(url(`/api/products?${query}`))).body.items as { id: number }[]).map((p) => p.id).sort((a, b) => a - b);

    expect(await ids(`category=${category}`)).toEqual([percent, underscore, plain].sort((a, b) => a - b));
    expect(await ids(`category=${category}&q=${encodeURIComponent('%')}`)).toEqual([percent]);
    expect(await ids(`category=${category}&q=_`)).toEqual([underscore]);
    expect(await ids(`category=${category}&q=WIDGET`)).toEqual([underscore, plain].sort((a, b) => a - b));
    expect(await ids(`q=${encodeURIComponent('50% now')}`)).toEqual([percent]);
    expect(await ids(`category=no-such-category`)).toEqual([]);
  });

  it('walks every product exactly once by cursor, newest first, even with colliding timestamps', async () => {
    // 350 rows over 7 instants, two of them one microsecond apart: a cursor
    // that kept milliseconds (or no id tie-break) would skip or repeat rows.
    const instants = [
      '2024-03-01T10:00:00.000001Z',
      '2024-03-01T10:00:00.000002Z',
      '2024-03-01T10:00:00.5Z',
      '2024-02-01T00:00:00Z',
      '2024-02-01T00:00:00Z',
      '2023-12-31T23:59:59.999999Z',
      '2024-03-01T10:00:00.000001Z',
    ];
    await insertProducts(app.pool, 350, (i) => instants[i % instants.length]!);
    const { rows } = await app.pool.query<{ id: string }>(TEST, { text: 'SELECT id FROM products ORDER BY created_at DESC, id DESC' });
    const expected = rows.map((r) => Number(r.id));

    const seen: number[] = [];
    let next: string | null = '/api/products?limit=100';
    let pages = 0;
    while (next !== null) {
      const res: Answer = await request(url(next));
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(100);
      seen.push(...res.body.items.map((p: { id: number }) => p.id));
      const link: string | null = res.headers.get('link');
      if (res.body.nextCursor === null) {
        expect(link).toBeNull();
        next = null;
      } else {
        // The Link header and the body agree on the next page.
        expect(link).toBe(`</api/products?limit=100&cursor=${res.body.nextCursor}>; rel="next"`);
        next = link!.slice(1, link!.indexOf('>'));
      }
      pages++;
    }
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(expected.length);
    expect(pages).toBe(Math.ceil(expected.length / 100) + (expected.length % 100 === 0 ? 1 : 0));
  });

  it('uses a default page size of 20', async () => {
    const res = await request(url('/api/products'));
    expect(res.body.items).toHaveLength(20);
    expect(typeof res.body.nextCursor).toBe('string');
  });

  it('keeps the filter across pages', async () => {
    const category = 'paged-category';
    const ids = await insertProducts(app.pool, 5, () => '2024-01-01T00:00:00Z', category);
    const first = await request(url(`/api/products?category=${category}&limit=3`));
    const second = await request(url(`/api/products?category=${category}&limit=3&cursor=${first.body.nextCursor}`));
    const walked = [...first.body.items, ...second.body.items].map((p: { id: number }) => p.id);
    expect(walked).toEqual([...ids].sort((a, b) => b - a));
    expect(second.body.nextCursor).toBeNull();
  });

  it.each(['0', '101', '-1', '1.5', 'abc', '', '1&limit=2'])('is 400 VALIDATION_FAILED for limit=%s', async (limit) => {
    const problem = expectProblem(await request(url(`/api/products?limit=${limit}`)), 400, 'VALIDATION_FAILED');
    expect(problem.field).toBe('query.limit');
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['empty signature', 'eyJhIjoxfQ.'],
    ['random base64url', 'WyIyMDI0LTAxLTAxIiwxXQ.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['oversized', 'a'.repeat(2000)],
  ])('is 400 for a %s cursor', async (_name, cursor) => {
    const res = await request(url(`/api/products?cursor=${encodeURIComponent(cursor)}`));
    const problem = expectProblem(res, 400, cursor.length > 1024 ? 'VALIDATION_FAILED' : 'BAD_CURSOR');
    expect(problem.field).toBe('query.cursor');
  });

  it('is 400 BAD_CURSOR for a tampered cursor or one issued for other filters', async () => {
    const first = await request(url('/api/products?category=paged-category&limit=1'));
    const cursor: string = first.body.nextCursor;
    const [payload, signature] = cursor.split('.') as [string, string];
    const key = JSON.parse(Buffer.from(payload, 'base64url').toString()) as [string, number];
    const forged = Buffer.from(JSON.stringify([key[0], key[1] + 1])).toString('base64url');

    expectProblem(await request(url(`/api/products?category=paged-category&cursor=${forged}.${signature}`)), 400, 'BAD_CURSOR');
    expectProblem(await request(url(`/api/products?category=other&cursor=${cursor}`)), 400, 'BAD_CURSOR');
    expectProblem(await request(url(`/api/products?cursor=${cursor}`)), 400, 'BAD_CURSOR');
    // The same cursor with its own filters still works, whatever the limit.
    expect((await request(url(`/api/products?category=paged-category&limit=2&cursor=${cursor}`))).status).toBe(200);
  });

  it('is 400, never 500, for filter values Postgres would refuse', async () => {
    for (const q of ['%00', 'a%00b', '%01', 'x'.repeat(201)]) {
      const problem = expectProblem(await request(url(`/api/products?q=${q}`)), 400, 'VALIDATION_FAILED');
      expect(problem.field).toBe('query.q');
    }
    expect(expectProblem(await request(url('/api/products?category=')), 400, 'VALIDATION_FAILED').field).toBe('query.category');
    // Invalid percent-encoding and stray bytes are data, not errors.
    for (const q of ['%ff', '%E2%82', '%zz']) expect((await request(url(`/api/products?q=${q}`))).status).toBe(200);
  });
});
