/**
 * Reads the product catalogue: one product, or a keyset page of them.
 *
 * Each filter combination has its own statement text (and prepared-statement
 * name) rather than `($1 IS NULL OR category = $1)`: a generic plan for the
 * catch-all form cannot use the (category, created_at, id) index.
 */
import { createBatchLoader, type BatchLoader } from './batch/loader.ts';
import { batchContext, type Context } from '../context/context.ts';
import { READ, type Queryable, type QueryOptions } from '../db/types.ts';
import { KEYSET_START, containsPattern, isoTimestamp } from './sql.ts';

export interface Product {
  id: number;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  stock: number;
  /** ISO 8601, microsecond precision, UTC. */
  createdAt: string;
}

/** Position in the newest-first listing: the last row a page returned. */
export interface ProductKey {
  createdAt: string;
  id: number;
}

export interface ProductFilter {
  category?: string | undefined;
  /** Case-insensitive substring of the name; `%` and `_` match themselves. */
  q?: string | undefined;
}

export interface ProductListOptions extends ProductFilter {
  limit: number;
  /** Return rows strictly after this key; the first page when absent. */
  after?: ProductKey | undefined;
}

export interface ProductPage {
  items: Product[];
  /** Key of the last item when more rows follow, else null. */
  next: ProductKey | null;
}

export interface ProductStore {
  get(ctx: Context, id: number): Promise<Product | undefined>;
  list(ctx: Context, options: ProductListOptions): Promise<ProductPage>;
}

/** Batching of concurrent `get`s (src/store/batch/loader.ts); absent: one statement per get. */
export interface ProductBatching {
  maxBatch: number;
  /** Receives the loader, for its counters (metrics). */
  onLoader?: (loader: BatchLoader<number, Product>) => void;
}

interface ProductRow {
  id: string;
  sku: string;
  name: string;
  category: string;
  price_cents: number;
  stock: number;
  created_at: string;
}

const COLUMNS = `id, sku, name, category, price_cents, stock, ${isoTimestamp('created_at')} AS created_at`;

const GET = {
  name: 'products-get',
  text: `SELECT ${COLUMNS} FROM products WHERE id = $1`,
};

/** A batch of gets; a batch of one uses GET, whose plan is the plainest. */
const GET_MANY = {
  name: 'products-get-many',
  text: `SELECT ${COLUMNS} FROM products WHERE id = ANY($1::bigint[])`,
};

/** $1, $2 keyset; $3 limit; $4 category and/or $5 name pattern when filtered. */
function listStatement(byCategory: boolean, byName: boolean): { name: string; text: string } {
  const where = ['(created_at, id) < ($1::timestamptz, $2::bigint)'];
  if (byCategory) where.push('category = $4');
  if (byName) where.push(`name ILIKE $${byCategory ? 5 : 4} ESCAPE '\\'`);
  return {
    name: `products-list${byCategory ? '-category' : ''}${byName ? '-name' : ''}`,
    text: `SELECT ${COLUMNS} FROM products WHERE ${where.join(' AND ')} ORDER BY products.created_at DESC, products.id DESC LIMIT $3`,
  };
}

const LIST = {
  plain: listStatement(false, false),
  category: listStatement(true, false),
  name: listStatement(false, true),
  both: listStatement(true, true),
};

function toProduct(row: ProductRow): Product {
  return {
    id: Number(row.id),
    sku: row.sku,
    name: row.name,
    category: row.category,
    priceCents: row.price_cents,
    stock: row.stock,
    createdAt: row.created_at,
  };
}

/**
 * Product reads over `db`.
 *
 * @example
 * const products = createProductStore(pool, { batching: { maxBatch: 64 } });
 * const first = await products.list(ctx, { category: 'tools', limit: 20 });
 * const second = await products.list(ctx, { category: 'tools', limit: 20, after: first.next ?? undefined });
 */
export function createProductStore(db: Queryable, options: { batching?: ProductBatching | undefined } = {}): ProductStore {
  async function getOne(ctx: Context, id: number, options: QueryOptions = READ): Promise<Product | undefined> {
    const { rows } = await db.query<ProductRow>(ctx, { ...GET, values: [id] }, options);
    return rows[0] === undefined ? undefined : toProduct(rows[0]);
  }

  async function getMany(ctxs: readonly Context[], ids: readonly number[], waitingSince: number): Promise<ReadonlyMap<number, Product>> {
    const found = new Map<number, Product>();
    const ctx = batchContext(ctxs);
    // Its wait for the batch's turn counts against DB_POOL_TIMEOUT too.
    const options: QueryOptions = { ...READ, waitingSince };
    if (ids.length === 1) {
      const product = await getOne(ctx, ids[0]!, options);
      if (product !== undefined) found.set(product.id, product);
      return found;
    }
    const { rows } = await db.query<ProductRow>(ctx, { ...GET_MANY, values: [ids] }, options);
    for (const row of rows) found.set(Number(row.id), toProduct(row));
    return found;
  }

  const batching = options.batching;
  let get = getOne;
  if (batching !== undefined) {
    const loader = createBatchLoader<number, Product>({ loadMany: getMany, maxBatch: batching.maxBatch });
    batching.onLoader?.(loader);
    get = (ctx, id) => loader.load(ctx, id);
  }

  async function list(ctx: Context, options: ProductListOptions): Promise<ProductPage> {
    const { category, q, limit, after } = options;
    const values: unknown[] = [after?.createdAt ?? KEYSET_START.createdAt, after?.id ?? KEYSET_START.id, limit + 1];
    if (category !== undefined) values.push(category);
    if (q !== undefined) values.push(containsPattern(q));
    const statement = category !== undefined ? (q !== undefined ? LIST.both : LIST.category) : q !== undefined ? LIST.name : LIST.plain;
    const { rows } = await db.query<ProductRow>(ctx, { ...statement, values }, READ);
    // One extra row tells whether another page exists without a count(*).
    const items = rows.slice(0, limit).map(toProduct);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null };
  }

  return { get, list };
}
