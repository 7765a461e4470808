/**
 * Finds where page N of the newest-first product list starts, and mints the
 * Holdfast cursor for it, so the bench can request page 5,000 directly
 * rather than walk 4,999 pages to get there.
 */
import pg from 'pg';
import { createCursorCodec } from '../src/http/cursor.ts';
import { toTimeKey } from '../src/http/keys.ts';
import { isoTimestamp } from '../src/store/sql.ts';
import type { DeepPage } from './endpoints.ts';

/**
 * Page `page` of `pageSize`, or the last full page when there are fewer rows.
 *
 * @example
 * const deep = await findDeepPage(databaseUrl, { page: 5000, pageSize: 20, cursorSecret });
 */
export async function findDeepPage(
  databaseUrl: string,
  options: { page: number; pageSize: number; cursorSecret: string },
): Promise<DeepPage> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows: countRows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM products');
    const total = Number(countRows[0]?.n ?? 0);
    if (total < options.pageSize * 2)
      throw new Error(`the deep-page bench needs at least ${options.pageSize * 2} products, found ${total}`);
    const page = Math.min(options.page, Math.floor(total / options.pageSize));
    const offset = (page - 1) * options.pageSize;
    const { rows } = await client.query<{ created_at: string; id: string }>(
      `SELECT ${isoTimestamp('created_at')} AS created_at, id FROM products ORDER BY products.created_at DESC, products.id DESC OFFSET $1 LIMIT 1`,
      [offset - 1],
    );
    const last = rows[0];
    if (last === undefined) throw new Error(`no product at offset ${offset - 1}`);
    const after = { createdAt: last.created_at, id: Number(last.id) };
    // The product list signs its cursors over its filters; unfiltered, they are all undefined.
    const holdfastCursor = createCursorCodec(options.cursorSecret).encode('products', {}, toTimeKey(after));
    return { page, pageSize: options.pageSize, offset, after, holdfastCursor };
  } finally {
    await client.end().catch(() => undefined);
  }
}
