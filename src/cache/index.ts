/**
 * The query cache's public surface: what routes, the app and metrics use.
 * The stores, the guard and single-flight stay internal.
 *
 * @example
 * import { createQueryCache, productEntry } from './cache/index.ts';
 */
export { createQueryCache, type QueryCache, type QueryCacheOptions, type WrapOptions, type CacheStats } from './query-cache.ts';
export { productEntry, productListEntry, topProductsEntry, orderWriteTags, PRODUCT_LIST_TAG, TOP_PRODUCTS_TAG } from './catalog-keys.ts';
export { cacheMetrics } from './metrics.ts';
