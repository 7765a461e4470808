/**
 * Sales reports, computed on demand from order lines.
 *
 * The window is pinned by its end (`until`): the first page takes `now()`,
 * later pages reuse the first page's value from the cursor, so orders placed
 * while a client pages through cannot reshuffle the ranking between pages.
 * Pages are cut by keyset on (units desc, productId asc), never OFFSET.
 *
 * The statement ranks before it decorates. Every product sold in the window
 * has to be summed to rank it (83,000 of them over 200,000 order lines on
 * the bench data), so that aggregate carries units only: a bigint sum per
 * product, cheap to hash. The page is cut from the ranking, and only its
 * rows (at most `limit` + 1) are joined to products and get their revenue,
 * whose exact 64-bit sum is a numeric aggregate with a state per group:
 * dearer per row, and over every product it outgrows work_mem and spills.
 * Measured in docs/QUERY-TUNING.md.
 */
import type { Context } from '../context/context.ts';
import { READ, type Queryable } from '../db/types.ts';
import { isoTimestamp } from './sql.ts';

export interface TopProduct {
  productId: number;
  sku: string;
  name: string;
  /** Units sold in the window. */
  units: number;
  revenueCents: number;
}

/** Position in the ranking, plus the window end it was computed for. */
export interface TopProductKey {
  until: string;
  units: number;
  productId: number;
}

export interface TopProductsOptions {
  /** Window length ending at `after.until`, or now for the first page. */
  days: number;
  limit: number;
  after?: TopProductKey | undefined;
}

export interface TopProductsPage {
  items: TopProduct[];
  next: TopProductKey | null;
  /** The window end the page was computed for; null when the page is empty. */
  until: string | null;
}

export interface ReportStore {
  topProducts(ctx: Context, options: TopProductsOptions): Promise<TopProductsPage>;
}

interface TopProductRow {
  product_id: string;
  sku: string;
  name: string;
  units: string;
  revenue_cents: string;
  until: string;
}

// The window is [until - days, until], `until` being $1 or the statement's
// now(): both are fixed for the statement, so every mention below agrees,
// and as plain expressions (not a joined CTE) they bound an index range scan
// on orders (created_at, id). `page` is named twice, so Postgres computes it
// once; its keyset filter runs on the ranking before any join.
const WINDOW = `o.created_at > coalesce($1::timestamptz, now()) - make_interval(days => $2::integer)
        AND o.created_at <= coalesce($1::timestamptz, now())`;

const TOP_PRODUCTS = {
  name: 'reports-top-products',
  text: `
    WITH ranked AS (
      SELECT oi.product_id, sum(oi.quantity)::bigint AS units
      FROM orders o JOIN order_items oi ON oi.order_id = o.id
      WHERE ${WINDOW}
      GROUP BY oi.product_id
    ), page AS (
      SELECT product_id, units
      FROM ranked
      WHERE $3::bigint IS NULL OR units < $3 OR (units = $3 AND product_id > $4::bigint)
      ORDER BY units DESC, product_id ASC
      LIMIT $5
    ), revenue AS (
      SELECT oi.product_id, sum(oi.quantity::bigint * oi.unit_price_cents)::bigint AS revenue_cents
      FROM orders o JOIN order_items oi ON oi.order_id = o.id
      WHERE oi.product_id IN (SELECT product_id FROM page) AND ${WINDOW}
      GROUP BY oi.product_id
    )
    SELECT r.product_id, p.sku, p.name, r.units, rev.revenue_cents,
           ${isoTimestamp('coalesce($1::timestamptz, now())')} AS until
    FROM page r
    JOIN products p ON p.id = r.product_id
    JOIN revenue rev ON rev.product_id = r.product_id
    ORDER BY r.units DESC, r.product_id ASC`,
};

/**
 * @example
 * const reports = createReportStore(pool);
 * const first = await reports.topProducts(ctx, { days: 30, limit: 10 });
 * const second = await reports.topProducts(ctx, { days: 30, limit: 10, after: first.next ?? undefined });
 */
export function createReportStore(db: Queryable): ReportStore {
  async function topProducts(ctx: Context, options: TopProductsOptions): Promise<TopProductsPage> {
    const { days, limit, after } = options;
    const values = [after?.until ?? null, days, after?.units ?? null, after?.productId ?? null, limit + 1];
    const { rows } = await db.query<TopProductRow>(ctx, { ...TOP_PRODUCTS, values }, READ);
    const items = rows.slice(0, limit).map((row) => ({
      productId: Number(row.product_id),
      sku: row.sku,
      name: row.name,
      units: Number(row.units),
      revenueCents: Number(row.revenue_cents),
    }));
    const last = items.at(-1);
    const until = rows[0]?.until;
    return {
      items,
      until: until ?? null,
      next:
        rows.length > limit && last !== undefined && until !== undefined ? { until, units: last.units, productId: last.productId } : null,
    };
  }

  return { topProducts };
}
