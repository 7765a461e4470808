/**
 * The database a load test or bench runs against: the one given (created
 * when missing), or an embedded Postgres in a temporary directory deleted
 * afterwards; migrated and seeded up to the requested row counts through the
 * service's own bootstrap (src/db/bootstrap.ts), plus what the load needs to
 * know of it: row counts and id ranges.
 */
import { countRows, prepareDatabase, withClient } from '../../src/db/bootstrap.ts';
import type { SeedCounts, SeedProgress } from '../../src/db/seed/seed.ts';
import type { Logger } from '../../src/log/logger.ts';
import type { IdRanges } from './mix.ts';

/**
 * @example
 * const db: LoadDatabase = await prepareLoadDatabase({ counts: { products: 10_000, customers: 2_000, orders: 20_000 }, logger });
 */
export interface LoadDatabase {
  /** Connection URL; may contain a password: never log or store it. */
  url: string;
  embedded: boolean;
  /** Highest product and customer ids, for random ids in requests. */
  ranges: IdRanges;
  /** Row counts after seeding. */
  rows: SeedCounts;
  /** Stops and deletes an embedded server; nothing for a given one. Idempotent. */
  stop(): Promise<void>;
}

/** @example const options: LoadDatabaseOptions = { url: 'postgres://postgres@127.0.0.1:5432/holdfast_bench', counts, logger }; */
export interface LoadDatabaseOptions {
  /** Unset: embedded Postgres in a temporary directory. Created when it does not exist. */
  url?: string | undefined;
  counts: SeedCounts;
  /** Leave the data as it is. */
  seed?: boolean;
  logger: Logger;
  onProgress?: (progress: SeedProgress) => void;
}

/**
 * @example
 * const db = await prepareDatabase({ url: undefined, counts: { products: 100_000, customers: 10_000, orders: 100_000 }, logger });
 * try { … } finally { await db.stop(); }
 */
export async function prepareLoadDatabase(options: LoadDatabaseOptions): Promise<LoadDatabase> {
  const db = await prepareDatabase({
    source: options.url === undefined ? { kind: 'temporary' } : { kind: 'url', url: options.url, createIfMissing: true },
    seed:
      options.seed === false
        ? { kind: 'none' }
        : {
            kind: 'rows',
            mode: 'top-up',
            counts: options.counts,
            ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
          },
    logger: options.logger,
  });
  try {
    const { rows, ranges } = await withClient(db.url, async (client) => {
      const found = await client.query<{ product: string | null; customer: string | null }>(
        'SELECT (SELECT max(id) FROM products) AS product, (SELECT max(id) FROM customers) AS customer',
      );
      const ranges: IdRanges = {
        product: Math.max(1, Number(found.rows[0]?.product ?? 1)),
        customer: Math.max(1, Number(found.rows[0]?.customer ?? 1)),
      };
      return { rows: await countRows(client), ranges };
    });
    return { ...db, rows, ranges };
  } catch (err) {
    await db.stop();
    throw err;
  }
}
