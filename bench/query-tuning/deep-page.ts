/**
 * `npx tsx bench/query-tuning/deep-page.ts <database-url> [--page 5000] [--limit 20] [--secret qt-cursor-secret] [--walk http://127.0.0.1:5391] [--rounds 21] [--psql]`
 *
 * Page 1 against page 5,000 of the newest-first product list, by keyset (as
 * the app pages) and by OFFSET (as it never does).
 *
 * - Finds the last row of page `--page - 1` and mints the cursor Holdfast
 *   would have issued there, signed with `--secret` (the server's
 *   CURSOR_SECRET), and prints both /api/products URLs for load.ts.
 * - `--walk <base>` also walks a running server from page 1 to that page by
 *   following nextCursor, and checks that the cursor it arrives with is the
 *   minted one: the shortcut then provably requests the same page.
 * - Times four statements side by side (sql-timing.ts): the store's own
 *   keyset statement for page 1 and for the deep page, and OFFSET 0 and
 *   OFFSET (page - 1) × limit with the same ORDER BY. `--psql` prints a psql
 *   script that EXPLAINs (ANALYZE, BUFFERS) them instead.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createCursorCodec } from '../../src/http/cursor.ts';
import { toTimeKey } from '../../src/http/keys.ts';
import { createProductStore, type ProductKey } from '../../src/store/products.ts';
import { isoTimestamp } from '../../src/store/sql.ts';
import { captureStatement, explainScript, timeVariants, timingTable, type Variant } from './sql-timing.ts';

const COLUMNS = `id, sku, name, category, price_cents, stock, ${isoTimestamp('created_at')} AS created_at`;
// Qualified: a bare `created_at` in ORDER BY names the output column first,
// which here is the to_char() text, and a sort on that cannot use the index.
const OFFSET = `SELECT ${COLUMNS} FROM products ORDER BY products.created_at DESC, products.id DESC OFFSET $1 LIMIT $2`;

const UNQUALIFIED_ORDER = 'ORDER BY created_at DESC, id DESC';

/**
 * `text` with its ORDER BY naming the table's columns rather than the output
 * aliases: the one-line fix proposed for src/store/products.ts, timed here
 * beside the statement as shipped. Undefined when there is nothing to fix.
 *
 * @example
 * qualifyOrderBy('SELECT … ORDER BY created_at DESC, id DESC LIMIT $3') // '… ORDER BY products.created_at DESC, products.id DESC …'
 */
export function qualifyOrderBy(text: string): string | undefined {
  return text.includes(UNQUALIFIED_ORDER)
    ? text.replace(UNQUALIFIED_ORDER, 'ORDER BY products.created_at DESC, products.id DESC')
    : undefined;
}

/**
 * The key of the last row before `offset` in newest-first order: what the
 * cursor of the page ending there carries.
 *
 * @example
 * const after = await keyBefore(client, 99_980); // { createdAt: '…', id: 20 }
 */
export async function keyBefore(client: pg.ClientBase, offset: number): Promise<ProductKey> {
  const { rows } = await client.query<{ created_at: string; id: string }>(
    `SELECT ${isoTimestamp('created_at')} AS created_at, id FROM products ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
    [offset - 1],
  );
  const row = rows[0];
  if (row === undefined) throw new Error(`there is no product at offset ${offset - 1}`);
  return { createdAt: row.created_at, id: Number(row.id) };
}

/**
 * Follows nextCursor from the first page for `pages - 1` hops; returns the cursor of page `pages` and the time taken.
 *
 * @example
 * const { cursor, ms } = await walk('http://127.0.0.1:5391', 5000, 20);
 */
export async function walk(base: string, pages: number, limit: number): Promise<{ cursor: string; ms: number }> {
  const started = performance.now();
  let cursor: string | null = null;
  for (let page = 1; page < pages; page++) {
    const url: string = `${base}/api/products?limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`;
    const res = await fetch(url);
    if (res.status !== 200) throw new Error(`page ${page} answered ${res.status}`);
    cursor = ((await res.json()) as { nextCursor: string | null }).nextCursor;
    if (cursor === null) throw new Error(`the list ended at page ${page}`);
  }
  if (cursor === null) throw new Error('walk at least two pages');
  return { cursor, ms: performance.now() - started };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      page: { type: 'string', default: '5000' },
      limit: { type: 'string', default: '20' },
      secret: { type: 'string', default: 'qt-cursor-secret' },
      walk: { type: 'string' },
      rounds: { type: 'string', default: '21' },
      psql: { type: 'boolean', default: false },
    },
  });
  const url = positionals[0];
  if (url === undefined) {
    console.error('usage: deep-page.ts <database-url> [--page 5000] [--limit 20] [--secret …] [--walk <base-url>] [--rounds 21] [--psql]');
    process.exit(2);
  }
  const page = Number(values.page);
  const limit = Number(values.limit);
  const offset = (page - 1) * limit;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const after = await keyBefore(client, offset).finally(() => client.end());
  // Unfiltered, every filter is undefined: the route signs over { category, q }.
  const cursor = createCursorCodec(values.secret).encode('products', { category: undefined, q: undefined }, toTimeKey(after));

  const first = await captureStatement((db, ctx) => createProductStore(db).list(ctx, { limit }));
  const deep = await captureStatement((db, ctx) => createProductStore(db).list(ctx, { limit, after }));
  const keyset: Variant[] = [
    { name: 'keyset as shipped, page 1', text: first.text, values: first.values ?? [] },
    { name: `keyset as shipped, page ${page}`, text: deep.text, values: deep.values ?? [] },
  ];
  const fixed = qualifyOrderBy(first.text);
  if (fixed !== undefined) {
    keyset.push(
      { name: 'keyset, ORDER BY qualified, page 1', text: fixed, values: first.values ?? [] },
      { name: `keyset, ORDER BY qualified, page ${page}`, text: fixed, values: deep.values ?? [] },
    );
  }
  const offsets: Variant[] = [
    { name: 'OFFSET 0', text: OFFSET, values: [0, limit] },
    { name: `OFFSET ${offset}`, text: OFFSET, values: [offset, limit] },
  ];
  if (values.psql) {
    // Two parameter lists, so two scripts; statement names must not collide.
    console.log(explainScript(keyset, '(timestamptz, bigint, integer)'));
    console.log(explainScript(offsets, '(integer, integer)').replace(/\bv(\d)\b/g, (_, n: string) => `w${n}`));
    return;
  }
  const variants = [...keyset, ...offsets];

  console.log(`page ${page} (limit ${limit}) starts after ${JSON.stringify(after)}`);
  console.log(`page 1:       /api/products?limit=${limit}`);
  console.log(`page ${page}: /api/products?limit=${limit}&cursor=${cursor}\n`);
  if (values.walk !== undefined) {
    const walked = await walk(values.walk, page, limit);
    const same = walked.cursor === cursor;
    console.log(
      `walked ${page - 1} pages in ${(walked.ms / 1000).toFixed(1)} s; the walked cursor ${same ? 'equals' : 'DIFFERS FROM'} the minted one\n`,
    );
    if (!same) process.exitCode = 1;
  }
  console.log(timingTable(await timeVariants(url, variants, { rounds: Number(values.rounds), warmup: 6 })));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
