/**
 * The cache keys and tags of the catalogue and report reads, in one place so
 * that the routes that read and the order route that invalidates cannot
 * drift apart: a tag spelt differently on either side is a stale read that
 * no test of either side alone would catch.
 *
 * Keys hold every input of the query (filters, limit, cursor position), as
 * a JSON array so that no value can run into the next.
 */

/** Tag of every cached product-list page; any stock change makes them all stale. */
export const PRODUCT_LIST_TAG = 'products:list';

/** Tag of every cached top-products page; every order changes the ranking. */
export const TOP_PRODUCTS_TAG = 'reports:top-products';

/**
 * Key and tags of one product by id.
 *
 * @example
 * const { key, tags } = productEntry(7); // { key: 'product:7', tags: ['product:7'] }
 */
export function productEntry(id: number): { key: string; tags: string[] } {
  return { key: `product:${id}`, tags: [productTag(id)] };
}

/**
 * Key and tags of one page of the product list.
 *
 * @example
 * const { key, tags } = productListEntry({ category: 'tools', limit: 20 });
 */
export function productListEntry(options: {
  category?: string | undefined;
  q?: string | undefined;
  limit: number;
  after?: { createdAt: string; id: number } | undefined;
}): { key: string; tags: string[] } {
  const parts = [options.category ?? null, options.q ?? null, options.limit, options.after?.createdAt ?? null, options.after?.id ?? null];
  return { key: `products:list:${JSON.stringify(parts)}`, tags: [PRODUCT_LIST_TAG] };
}

/**
 * Key and tags of one page of the top-products report.
 *
 * @example
 * const { key, tags } = topProductsEntry({ days: 30, limit: 10 });
 */
export function topProductsEntry(options: {
  days: number;
  limit: number;
  after?: { until: string; units: number; productId: number } | undefined;
}): { key: string; tags: string[] } {
  const after = options.after;
  const parts = [options.days, options.limit, after?.until ?? null, after?.units ?? null, after?.productId ?? null];
  return { key: `reports:top-products:${JSON.stringify(parts)}`, tags: [TOP_PRODUCTS_TAG] };
}

/**
 * Tags to invalidate after an order commits: each product whose stock it
 * changed, every list page (they show stock), and the report (it counts
 * units sold).
 *
 * @example
 * await cache.invalidateTags(orderWriteTags([7, 9]));
 */
export function orderWriteTags(productIds: readonly number[]): string[] {
  return [...new Set(productIds)].map(productTag).concat(PRODUCT_LIST_TAG, TOP_PRODUCTS_TAG);
}

function productTag(id: number): string {
  return `product:${id}`;
}
