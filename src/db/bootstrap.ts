/**
 * The one database bootstrap: find or start the server, migrate it, seed it.
 *
 * The service (src/app.ts, and a cluster's primary), `npm run seed`, the load
 * test and the bench all go through here, so every entry point reaches the
 * same database the same way: a URL, the embedded server under DATA_DIR, or a
 * throwaway embedded server in a temporary directory.
 *
 * @example
 * const db = await prepareDatabase({ source: databaseSource(config.database), seed: DEMO_SEED, logger });
 * try { … use db.url … } finally { await db.stop(); }
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Config } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { onFreePort } from '../net/free-port.ts';
import { isPortInUse } from './embedded/error.ts';
import { startEmbeddedPostgres } from './embedded/postgres.ts';
import { runMigrations } from './migrations/migrate.ts';
import { resolveTargetUrl } from './hosts/resolve.ts';
import { seedDemoIfEmpty, seedStore, type SeedCounts, type SeedProgress } from './seed/seed.ts';

/** Where the database comes from. */
export type DatabaseSource =
  /** A running server. `createIfMissing`: CREATE DATABASE through its `postgres` database first. */
  | { kind: 'url'; url: string; createIfMissing?: boolean }
  /** The embedded server, keeping its cluster in `dataDir` across runs. */
  | { kind: 'embedded'; dataDir: string; port: number }
  /** An embedded server in a temporary directory on a free port, deleted on stop. */
  | { kind: 'temporary' };

/** What to put in the database once it is migrated. */
export type SeedPlan =
  | { kind: 'none' }
  /** The small demo store, only when the database has no products. */
  | { kind: 'demo' }
  /**
   * Generated rows. `add` inserts `counts` more rows; `top-up` inserts only
   * what is missing to reach `counts` (a second bench run seeds nothing).
   */
  | { kind: 'rows'; mode: 'add' | 'top-up'; counts: SeedCounts; reset?: boolean; onProgress?: (progress: SeedProgress) => void };

export const NO_SEED: SeedPlan = Object.freeze({ kind: 'none' });
export const DEMO_SEED: SeedPlan = Object.freeze({ kind: 'demo' });

/** A database ready for the pools. */
export interface ReadyDatabase {
  /** Connection URL; may contain a password: never log it. */
  url: string;
  /** Whether the server was started here (and is stopped by `stop`). */
  embedded: boolean;
  /** Stops (and for a temporary one, deletes) a server started here; nothing for a URL. Idempotent. */
  stop(): Promise<void>;
}

export interface PrepareOptions {
  source: DatabaseSource;
  seed: SeedPlan;
  logger: Logger;
  /** Called once the server is up, before migrating: a script can stop it on Ctrl-C mid-seed. */
  onServer?: (server: ReadyDatabase) => void;
}

/**
 * The database the configuration names: DATABASE_URL, or the embedded server under DATA_DIR.
 *
 * @example
 * databaseSource(config.database); // { kind: 'embedded', dataDir: './data', port: 54329 }
 */
export function databaseSource(database: Config['database']): DatabaseSource {
  return database.url !== undefined
    ? { kind: 'url', url: database.url }
    : { kind: 'embedded', dataDir: database.dataDir, port: database.embeddedPort };
}

/**
 * Server → migrations → seed. On any failure a server started here is stopped again.
 *
 * @example
 * const db = await prepareDatabase({ source: { kind: 'temporary' }, seed: NO_SEED, logger });
 */
export async function prepareDatabase(options: PrepareOptions): Promise<ReadyDatabase> {
  const { logger } = options;
  const server = await openServer(options.source, logger);
  options.onServer?.(server);
  try {
    // Several hosts: migrate the one the pool will write to (the primary), never a standby.
    await withClient(await resolveTargetUrl(server.url, logger), async (client) => {
      await runMigrations(client, logger);
      await seed(client, options.seed, logger);
    });
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

async function openServer(source: DatabaseSource, logger: Logger): Promise<ReadyDatabase> {
  switch (source.kind) {
    case 'url':
      if (source.createIfMissing === true) await createDatabaseIfMissing(source.url);
      return { url: source.url, embedded: false, stop: async () => undefined };
    case 'embedded': {
      const running = await startEmbeddedPostgres({ dataDir: source.dataDir, port: source.port, logger });
      return { url: running.url, embedded: true, stop: running.stop };
    }
    case 'temporary': {
      const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-pg-'));
      try {
        const running = await onFreePort((port) => startEmbeddedPostgres({ dataDir, port, logger }), isPortInUse);
        let stopping: Promise<void> | undefined;
        const stop = () => (stopping ??= running.stop().finally(() => rm(dataDir, { recursive: true, force: true })));
        return { url: running.url, embedded: true, stop };
      } catch (err) {
        await rm(dataDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

async function seed(client: pg.Client, plan: SeedPlan, logger: Logger): Promise<void> {
  if (plan.kind === 'none') return;
  if (plan.kind === 'demo') {
    await seedDemoIfEmpty(client, logger);
    return;
  }
  const counts = plan.mode === 'add' ? plan.counts : missingRows(plan.counts, await countRows(client));
  if (counts.products + counts.customers + counts.orders === 0 && plan.reset !== true) return;
  await seedStore(client, counts, {
    reset: plan.reset === true,
    ...(plan.onProgress === undefined ? {} : { onProgress: plan.onProgress }),
  });
  // Fresh statistics, so the first measured queries are planned on the data they read.
  await client.query('ANALYZE');
}

/**
 * Row counts of the store's three tables.
 *
 * @example
 * const rows = await countRows(client); // { products: 200, customers: 50, orders: 300 }
 */
export async function countRows(client: pg.ClientBase): Promise<SeedCounts> {
  const { rows } = await client.query<{ products: string; customers: string; orders: string }>(
    'SELECT (SELECT count(*) FROM products) AS products, (SELECT count(*) FROM customers) AS customers, (SELECT count(*) FROM orders) AS orders',
  );
  const r = rows[0]!;
  return { products: Number(r.products), customers: Number(r.customers), orders: Number(r.orders) };
}

function missingRows(wanted: SeedCounts, present: SeedCounts): SeedCounts {
  return {
    products: Math.max(0, wanted.products - present.products),
    customers: Math.max(0, wanted.customers - present.customers),
    orders: Math.max(0, wanted.orders - present.orders),
  };
}

/**
 * Runs `fn` with a connected client that is closed afterwards, whatever happens.
 *
 * @example
 * const rows = await withClient(url, countRows);
 */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // surfaced through the awaited query instead
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
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
  await withClient(target.toString(), (admin) => admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
}
