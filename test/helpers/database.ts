/**
 * A private, migrated database per caller on the test server, so test files
 * can run in parallel without seeing each other's rows.
 *
 * Each call holds at most two connections, briefly (one to create or drop,
 * one to migrate), because the server allows only 100.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { runMigrations } from '../../src/db/migrations/migrate.ts';
import { createLogger } from '../../src/log/logger.ts';

/**
 * A database created for one test file.
 *
 * @example
 * const db: TestDatabase = await createTestDatabase();
 */
export interface TestDatabase {
  /** Connection URL of the new database; may contain a password. */
  url: string;
  name: string;
  /** Drops the database, closing any connections still open to it. Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates a uniquely named database and, unless `migrate: false`, applies the
 * application's migrations to it.
 *
 * @example
 * let db: TestDatabase;
 * beforeAll(async () => { db = await createTestDatabase(); });
 * afterAll(() => db.drop());
 */
export async function createTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const adminUrl = inject('databaseAdminUrl');
  const name = `holdfast_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await asAdmin(adminUrl, `CREATE DATABASE ${name}`);

  let dropping: Promise<void> | undefined;
  const database: TestDatabase = {
    url: withDatabase(adminUrl, name),
    name,
    drop: () => (dropping ??= asAdmin(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
  if (options.migrate !== false) {
    try {
      await runMigrations(database.url, createLogger('silent'));
    } catch (err) {
      await database.drop();
      throw err;
    }
  }
  return database;
}

/**
 * The same server and credentials as `url`, pointed at database `name`.
 *
 * @example
 * withDatabase('postgres://u:p@h:5432/postgres', 'shop') // 'postgres://u:p@h:5432/shop'
 */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

async function asAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
