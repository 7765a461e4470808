/**
 * `npx tsx bench/query-tuning/report-sql.ts <database-url> [--days 30] [--limit 10] [--rounds 21] [--psql]`
 *
 * The top-products statement before and after the rewrite, timed side by
 * side on one connection (see sql-timing.ts for how). "after" is whatever
 * src/store/reports.ts sends today, captured from the store itself; "before"
 * is the statement it replaced, kept here verbatim. Whether
 * orders_created_at_id_idx (migration 002) exists is printed with the table:
 * to time the statements without it, drop it on the scratch database first
 * and create it again afterwards.
 *
 * `--psql` prints a psql script instead, which EXPLAINs (ANALYZE, BUFFERS)
 * both statements:
 *
 *   npx tsx bench/query-tuning/report-sql.ts "$DB" --psql | psql "$DB"
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createReportStore } from '../../src/store/reports.ts';
import { isoTimestamp } from '../../src/store/sql.ts';
import { captureStatement, explainScript, timeVariants, timingTable, type Variant } from './sql-timing.ts';

/** src/store/reports.ts before the rewrite (git history has it too). */
const BEFORE = `
    WITH w AS (
      SELECT coalesce($1::timestamptz, now()) AS until
    ), ranked AS (
      SELECT oi.product_id,
             sum(oi.quantity)::bigint AS units,
             sum(oi.quantity::bigint * oi.unit_price_cents)::bigint AS revenue_cents
      FROM w, orders o JOIN order_items oi ON oi.order_id = o.id
      WHERE o.created_at > w.until - make_interval(days => $2::integer) AND o.created_at <= w.until
      GROUP BY oi.product_id
    )
    SELECT r.product_id, p.sku, p.name, r.units, r.revenue_cents, ${isoTimestamp('w.until')} AS until
    FROM w, ranked r JOIN products p ON p.id = r.product_id
    WHERE $3::bigint IS NULL OR r.units < $3 OR (r.units = $3 AND r.product_id > $4::bigint)
    ORDER BY r.units DESC, r.product_id ASC
    LIMIT $5`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      days: { type: 'string', default: '30' },
      limit: { type: 'string', default: '10' },
      rounds: { type: 'string', default: '21' },
      psql: { type: 'boolean', default: false },
    },
  });
  const url = positionals[0];
  if (url === undefined) {
    console.error('usage: report-sql.ts <database-url> [--days 30] [--limit 10] [--rounds 21] [--psql]');
    process.exit(2);
  }
  const days = Number(values.days);
  const limit = Number(values.limit);
  const after = await captureStatement((db, ctx) => createReportStore(db).topProducts(ctx, { days, limit }));
  const variants: Variant[] = [
    { name: 'before (ranked ⋈ products, revenue in the aggregate)', text: BEFORE, values: [null, days, null, null, limit + 1] },
    { name: 'after (rank on units, then decorate the page)', text: after.text, values: after.values ?? [] },
  ];
  if (values.psql) {
    console.log(explainScript(variants, '(timestamptz, integer, bigint, bigint, integer)'));
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client
    .query<{ present: boolean }>("SELECT to_regclass('orders_created_at_id_idx') IS NOT NULL AS present")
    .finally(() => client.end());
  console.log(`days=${days} limit=${limit}; orders_created_at_id_idx ${rows[0]?.present === true ? 'present' : 'absent'}\n`);
  console.log(timingTable(await timeVariants(url, variants, { rounds: Number(values.rounds), warmup: 6 })));
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
