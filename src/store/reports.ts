/**
 * Sales reports, computed on demand from order lines.
 *
 * The window is pinned by its end (`until`): the first page takes `now()`,
 * later pages reuse the first page's value from the cursor, so orders placed
 * while a client pages through cannot reshuffle the ranking between pages.
 * Pages are cut by keyset on (units desc, productId asc), never OFFSET.
 */
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
}

export interface ReportStore {
  topProducts(options: TopProductsOptions): Promise<TopProductsPage>;
}

interface TopProductRow {
  product_id: string;
  sku: string;
  name: string;
  units: string;
  revenue_cents: string;
  until: string;
}

const TOP_PRODUCTS = {
  name: 'reports-top-products',
  text: `
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
    LIMIT $5`,
};

/**
 * @example
 * const reports = createReportStore(pool);
 * const first = await reports.topProducts({ days: 30, limit: 10 });
 * const second = await reports.topProducts({ days: 30, limit: 10, after: first.next ?? undefined });
 */
export function createReportStore(db: Queryable): ReportStore {
  async function topProducts(options: TopProductsOptions): Promise<TopProductsPage> {
    const { days, limit, after } = options;
    const values = [after?.until ?? null, days, after?.units ?? null, after?.productId ?? null, limit + 1];
    const { rows } = await db.query<TopProductRow>({ ...TOP_PRODUCTS, values }, READ);
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
      next:
        rows.length > limit && last !== undefined && until !== undefined
          ? { until, units: last.units, productId: last.productId }
          : null,
    };
  }

  return { topProducts };
}
