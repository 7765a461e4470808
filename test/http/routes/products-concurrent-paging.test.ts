/**
 * Walking GET /api/products by cursor while products are being inserted.
 *
 * The guarantee, for a walk that follows nextCursor from the first page to
 * the last (keyset on (created_at, id), newest first, `<` the last key
 * returned; rows are never deleted and their created_at and id never
 * change):
 *
 * 1. No row is returned twice, and rows come strictly in (created_at, id)
 *    descending order across pages.
 * 2. Every row that existed when the walk began is returned exactly once.
 * 3. A row inserted during the walk is returned at most once: if its key
 *    sorts below the walk's position when a later page is read, it appears
 *    (a back-dated row, say); if it sorts above (a row created now, ahead
 *    of everything already passed), it never does. Which of the two a
 *    racing insert falls into depends on timing, so it is not asserted.
 *
 * Each page is a fresh statement (and a fresh cache key, the cursor being
 * part of it), so a row committed before the walk began is visible to every
 * page read after it. The writer below inserts both kinds of rows, with
 * timestamps that tie existing ones, while the walk runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { request, type Answer } from '../../helpers/http.ts';
import { insertProduct, insertProducts } from '../../helpers/store-fixtures.ts';
import { TEST } from '../../helpers/context.ts';

const EXISTING = 400;
const LIMIT = 7;
const BASE_MS = Date.parse('2024-06-01T00:00:00Z');
/** Two existing rows per instant, one minute apart: ties for the id to break. */
const instant = (i: number) => new Date(BASE_MS - Math.floor(i / 2) * 60_000).toISOString();

interface Row {
  id: number;
  createdAt: string;
}

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app?.close());

/** Deterministic, so a failure replays the same timestamps. */
function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('GET /api/products paged during inserts', () => {
  it('returns every row that existed at the start exactly once, in order, whatever is inserted meanwhile', async () => {
    await insertProducts(app.pool, EXISTING, instant);
    const before = await app.pool.query<{ id: string }>(TEST, { text: 'SELECT id FROM products' });
    const existing = new Set(before.rows.map((r) => Number(r.id)));
    expect(existing.size).toBe(EXISTING);

    const random = lcg(7);
    const inserted: { id: number; backdated: boolean }[] = [];
    let walking = true;
    const writer = (async () => {
      while (walking) {
        // Three in four back-dated into the existing range (half of those on
        // an existing instant exactly); the rest created now, ahead of it all.
        const backdated = random() < 0.75;
        const createdAt = backdated
          ? random() < 0.5
            ? instant(Math.floor(random() * EXISTING))
            : new Date(BASE_MS - random() * (EXISTING / 2) * 60_000).toISOString()
          : undefined;
        inserted.push({ id: await insertProduct(app.pool, { createdAt }), backdated });
      }
    })();

    const walked: Row[] = [];
    let pages = 0;
    try {
      let next: string | null = `/api/products?limit=${LIMIT}`;
      while (next !== null) {
        const res: Answer = await request(`${app.baseUrl}${next}`);
        expect(res.status, res.text).toBe(200);
        walked.push(...(res.body.items as Row[]).map(({ id, createdAt }) => ({ id, createdAt })));
        pages += 1;
        next = res.body.nextCursor === null ? null : `/api/products?limit=${LIMIT}&cursor=${res.body.nextCursor}`;
        // Let the writer in between pages, so inserts land throughout the walk.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    } finally {
      walking = false;
      await writer;
    }

    const ids = walked.map((r) => r.id);
    expect(new Set(ids).size, 'a row was returned twice').toBe(ids.length);
    const missing = [...existing].filter((id) => !ids.includes(id));
    expect(missing, 'rows that existed at the start were skipped').toEqual([]);
    for (let i = 1; i < walked.length; i++) {
      const [a, b] = [walked[i - 1]!, walked[i]!];
      const descending = a.createdAt > b.createdAt || (a.createdAt === b.createdAt && a.id > b.id);
      expect(descending, `rows ${a.id} and ${b.id} out of order`).toBe(true);
    }
    const insertedIds = new Set(inserted.map((r) => r.id));
    expect(ids.filter((id) => !existing.has(id) && !insertedIds.has(id))).toEqual([]);

    // The race really happened: inserts throughout the walk, some of them behind its position.
    expect(pages).toBeGreaterThan(EXISTING / LIMIT);
    expect(inserted.length).toBeGreaterThan(pages);
    expect(inserted.filter((r) => r.backdated && ids.includes(r.id)).length).toBeGreaterThan(0);
  });
});
