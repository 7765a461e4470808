/**
 * Whether product search (`q`) has its trigram index.
 *
 * Migration 004 creates pg_trgm and a GIN trigram index on products.name
 * when the server offers the extension and lets us create it; otherwise it
 * leaves search as a sequential ILIKE scan, which works but costs a full
 * scan per search. Start-up says so once, with how to fix it, rather than
 * failing: search stays correct, only dearer.
 */
import { backgroundContext } from '../context/context.ts';
import { READ, type Queryable } from '../db/types.ts';
import { unprofiled } from '../profiler/unprofiled.ts';

export const PRODUCT_SEARCH_INDEX = 'products_name_trgm_idx';

const START_UP_CHECK = backgroundContext('search index check');

/**
 * @example
 * await checkProductSearchIndex(pool, logger); // false, and a warning, without pg_trgm
 */
export async function checkProductSearchIndex(db: Queryable, logger: { warn(obj: object, msg: string): void }): Promise<boolean> {
  const { rowCount } = await db.query(
    START_UP_CHECK,
    unprofiled({ text: "SELECT 1 FROM pg_indexes WHERE tablename = 'products' AND indexname = $1", values: [PRODUCT_SEARCH_INDEX] }),
    READ,
  );
  if (rowCount > 0) return true;
  logger.warn(
    { index: PRODUCT_SEARCH_INDEX },
    'product search (q) has no trigram index, so each search scans every product: install pg_trgm (PostgreSQL contrib) and run ' +
      `CREATE EXTENSION pg_trgm; CREATE INDEX ${PRODUCT_SEARCH_INDEX} ON products USING gin (name gin_trgm_ops)`,
  );
  return false;
}
