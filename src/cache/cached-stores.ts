/**
 * The stores with the query cache applied: read-through for the catalogue
 * and the report, invalidation after every order.
 *
 * Decorators rather than cache calls in the routes, so a route cannot forget
 * either side, and the same stores run uncached when CACHE_ENABLED=false.
 *
 * A read carrying a Consistency-Token (ctx.consistency) skips the cache, in
 * both directions: an entry may have been filled, on this instance or
 * another, from a lagging replica or before the token's write, and nothing
 * stamps entries with a WAL position (docs/FAILOVER.md, "Replica lag").
 *
 * @example
 * const products = cachedProductStore(createProductStore(pool), cache, config.cache.ttl);
 * const orders = invalidatingOrderStore(createOrderStore(pool), cache);
 */
import type { CacheSettings } from '../config/index.ts';
import type { OrderStore } from '../store/orders.ts';
import type { ProductStore } from '../store/products.ts';
import type { ReportStore, TopProductsPage } from '../store/reports.ts';
import { orderWriteTags, productEntry, productListEntry, topProductsEntry } from './catalog-keys.ts';
import type { QueryCache } from './query-cache.ts';
import type { CacheSpans } from '../telemetry/cache-spans.ts';

type Ttl = CacheSettings['ttl'];

/** Product by id and product-list pages, each with its own TTL; `spans` traces each lookup (tracing on). */
export function cachedProductStore(store: ProductStore, cache: QueryCache, ttl: Ttl, spans?: CacheSpans): ProductStore {
  return {
    // A miss is charged to the request (ctx) that ran the query; callers
    // that joined it in flight, or hit, are charged nothing.
    get: function getCached(ctx, id) {
      if (ctx.consistency !== undefined) return store.get(ctx, id);
      const { key, tags } = productEntry(id);
      // Admitted on repeat: random reads over a large catalogue would otherwise churn the cache for nothing.
      return cache.wrap(
        key,
        { ttlMs: ttl.productS * 1000, tags, admitOnRepeat: true, signal: ctx.signal, ...spans?.lookup(ctx, 'product') },
        () => store.get(ctx, id),
      );
    },
    list: function listCached(ctx, options) {
      if (ctx.consistency !== undefined) return store.list(ctx, options);
      const { key, tags } = productListEntry(options);
      return cache.wrap(key, { ttlMs: ttl.listS * 1000, tags, signal: ctx.signal, ...spans?.lookup(ctx, 'product list') }, () =>
        store.list(ctx, options),
      );
    },
  };
}

/** Report page sizes computed and cached; a request is served from the smallest that covers its limit. */
export const REPORT_LIMIT_BUCKETS = [10, 25, 50, 100] as const;

/**
 * The top-products report: an aggregate, so served stale for a while during
 * its refresh. Computed for the limit's bucket and cut to the limit, so that
 * the hundred possible limits share four entries per window and position.
 */
export function cachedReportStore(store: ReportStore, cache: QueryCache, ttl: Ttl, spans?: CacheSpans): ReportStore {
  return {
    topProducts: async function topProductsCached(ctx, options) {
      if (ctx.consistency !== undefined) return store.topProducts(ctx, options);
      const limit = options.limit;
      const bucket = REPORT_LIMIT_BUCKETS.find((b) => b >= limit) ?? limit;
      const computed = { ...options, limit: bucket };
      const { key, tags } = topProductsEntry(computed);
      const lookup = spans?.lookup(ctx, 'top products');
      const full = await cache.wrap(
        key,
        { ttlMs: ttl.reportS * 1000, tags, staleMs: ttl.reportS * 500, signal: ctx.signal, ...lookup },
        () => store.topProducts(ctx, computed),
      );
      return firstOf(full, limit);
    },
  };
}

/** The first `limit` items of a report page, with the key after the last of them when more follow. */
function firstOf(page: TopProductsPage, limit: number): TopProductsPage {
  if (page.items.length <= limit) return page;
  const items = page.items.slice(0, limit);
  const last = items.at(-1)!;
  return {
    items,
    until: page.until,
    next: page.until === null ? null : { until: page.until, units: last.units, productId: last.productId },
  };
}

/**
 * Invalidates what an order changed after it commits and before it is
 * answered, so its client never reads stale stock afterwards.
 */
export function invalidatingOrderStore(store: OrderStore, cache: QueryCache): OrderStore {
  return {
    place: async function placeAndInvalidate(ctx, input, options) {
      const placed = await store.place(ctx, input, options);
      // ctx.trace: the invalidation's Redis command is a span of the order's trace.
      if (!placed.replayed) await cache.invalidateTags(orderWriteTags(placed.order.items.map((item) => item.productId)), ctx.trace);
      return placed;
    },
  };
}
