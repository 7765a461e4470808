/**
 * The database a load test or bench runs against: the one given, or an
 * embedded Postgres in a temporary directory that is deleted afterwards;
 * migrated, and seeded up to the requested row counts (existing rows count,
 * so a second run against the same database seeds nothing).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded/postgres.ts';
import { runMigrations } from '../../src/db/migrations/migrate.ts';
import { seedStore, type SeedCounts, type SeedProgress } from '../../src/db/seed/seed.ts';
import type { Logger } from '../../src/log/logger.ts';
import { freePort } from './child-process.ts';
import type { IdRanges } from './mix.ts';

/**
 * @example
 * const db: PreparedDatabase = await prepareDatabase({ counts: { products: 10_000, customers: 2_000, orders: 20_000 }, logger });
 */
export interface PreparedDatabase {
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

/** @example const options: PrepareOptions = { url: 'postgres://postgres@127.0.0.1:5432/holdfast_bench', counts, logger }; */
export interface PrepareOptions {
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
export async function prepareDatabase(options: PrepareOptions): Promise<PreparedDatabase> {
  let url = options.url;
  let stop = async (): Promise<void> => undefined;
  if (url === undefined) {
    const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-loadtest-pg-'));
    try {
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), logger: options.logger });
      url = server.url;
      let stopping: Promise<void> | undefined;
      stop = () => (stopping ??= server.stop().finally(() => rm(dataDir, { recursive: true, force: true })));
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  } else {
    await createDatabaseIfMissing(url);
  }
  try {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await runMigrations(client, options.logger);
      let rows = await countRows(client);
      if (options.seed !== false) {
        const missing: SeedCounts = {
          products: Math.max(0, options.counts.products - rows.products),
          customers: Math.max(0, options.counts.customers - rows.customers),
          orders: Math.max(0, options.counts.orders - rows.orders),
        };
        if (missing.products + missing.customers + missing.orders > 0) {
          await seedStore(client, missing, options.onProgress === undefined ? {} : { onProgress: options.onProgress });
          await client.query('ANALYZE');
          rows = await countRows(client);
        }
      }
      const ranges = await idRanges(client);
      return { url, embedded: options.url === undefined, ranges, rows, stop };
    } finally {
      await client.end().catch(() => undefined);
    }
  } catch (err) {
    await stop();
    throw err;
  }
}

async function countRows(client: pg.Client): Promise<SeedCounts> {
  const { rows } = await client.query<{ products: string; customers: string; orders: string }>(
    'SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM orders) AS orders',
  );
  const r = rows[0]!;
  return { products: Number(r.products), customers: Number(r.customers), orders: Number(r.orders) };
}

async function idRanges(client: pg.Client): Promise<IdRanges> {
  const { rows } = await client.query<{ product: string | null; customer: string | null }>(
    'SELECT (SELECT max(id) FROM products) AS product, (SELECT max(id) FROM customers) AS customer',
  );
  return { product: Math.max(1, Number(rows[0]?.product ?? 1)), customer: Math.max(1, Number(rows[0]?.customer ?? 1)) };
}

/** CREATE DATABASE through the server's `postgres` database when `url`'s database does not exist. */
async function createDatabaseIfMissing(url: string): Promise<void> {
  const probe = new pg.Client({ connectionString: url });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err;
  } finally {
    await probe.end().catch(() => undefined);
  }
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  target.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: target.toString() });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}
