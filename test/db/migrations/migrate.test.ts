/**
 * Migrations run once, in order, each atomically, under a lock that makes
 * concurrent starts safe, and refuse a database whose applied migrations were
 * edited. Each test uses its own empty database.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MigrationError, runMigrations } from '../../../src/db/migrations/migrate.ts';
import { MIGRATIONS_DIR, readMigrationFiles } from '../../../src/db/migrations/files.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { captureLogs } from '../../helpers/logs.ts';

const silent = createLogger('silent');
const databases: TestDatabase[] = [];
const clients: pg.Client[] = [];
let dir: string;

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ migrate: false });
  databases.push(db);
  return db;
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

async function recorded(client: pg.Client): Promise<{ version: number; name: string; checksum: string }[]> {
  return (await client.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version')).rows;
}

async function tableExists(client: pg.Client, table: string): Promise<boolean> {
  return (await client.query('SELECT to_regclass($1) IS NOT NULL AS found', [table])).rows[0].found as boolean;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'holdfast-migrations-'));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.end()));
  await rm(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await Promise.all(databases.map((db) => db.drop()));
});

/** Every application migration, as runMigrations reports them; the list grows with src/db/migrations. */
async function appMigrations(): Promise<{ applied: { version: number; name: string }[]; version: number }> {
  const files = await readMigrationFiles();
  return { applied: files.map(({ version, name }) => ({ version, name })), version: files.at(-1)?.version ?? 0 };
}

describe('runMigrations with the application migrations', () => {
  it('creates the store schema once and records the version with its checksum', async () => {
    const db = await freshDatabase();
    const outcome = await runMigrations(db.url, silent);

    expect(outcome).toEqual(await appMigrations());
    const client = await connect(db.url);
    for (const table of ['products', 'customers', 'orders', 'order_items', 'idempotency_keys']) {
      expect(await tableExists(client, table), table).toBe(true);
    }
    const files = await readMigrationFiles();
    expect(await recorded(client)).toEqual(files.map(({ version, name, checksum }) => ({ version, name, checksum })));
    const indexes = (await client.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")).rows.map(
      (r) => r.indexname as string,
    );
    expect(indexes).toEqual(
      expect.arrayContaining([
        'products_created_at_id_idx',
        'products_category_created_at_id_idx',
        'orders_customer_id_created_at_id_idx',
        'order_items_product_id_idx',
        'orders_created_at_id_idx',
      ]),
    );
  });

  it('does nothing on a second run', async () => {
    const db = await freshDatabase();
    await runMigrations(db.url, silent);
    const client = await connect(db.url);
    const before = (await client.query('SELECT version, applied_at FROM schema_migrations')).rows;

    const outcome = await runMigrations(client, silent);

    expect(outcome).toEqual({ applied: [], version: (await appMigrations()).version });
    expect((await client.query('SELECT version, applied_at FROM schema_migrations')).rows).toEqual(before);
  });

  it('lets two runners start at once and applies each migration exactly once', async () => {
    const db = await freshDatabase();
    const logs = captureLogs();

    const [a, b] = await Promise.all([runMigrations(db.url, logs.logger), runMigrations(db.url, logs.logger)]);

    const all = (await appMigrations()).applied;
    expect([...a.applied, ...b.applied].sort((x, y) => x.version - y.version)).toEqual(all);
    expect(await recorded(await connect(db.url))).toHaveLength(all.length);
  });

  it('finds its SQL files beside the module (sql/), whatever the working directory', async () => {
    const db = await freshDatabase();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect((await runMigrations(db.url, silent)).applied).toEqual((await appMigrations()).applied);
    } finally {
      process.chdir(cwd);
    }
    expect(MIGRATIONS_DIR).toMatch(/src[/\\]db[/\\]migrations[/\\]sql[/\\]?$/);
  });
});

describe('runMigrations with a migrations directory', () => {
  it('applies files in version order and later only the new ones', async () => {
    const db = await freshDatabase();
    // 010 depends on 002, and sorts after it only numerically, not as text.
    await writeFile(join(dir, '002_things.sql'), 'CREATE TABLE things (n int);');
    await writeFile(join(dir, '010_more_things.sql'), 'INSERT INTO things VALUES (1);');
    await writeFile(join(dir, 'README.md'), 'not a migration');

    const first = await runMigrations(db.url, silent, { directory: dir });
    expect(first).toEqual({
      applied: [
        { version: 2, name: 'things' },
        { version: 10, name: 'more_things' },
      ],
      version: 10,
    });

    await writeFile(join(dir, '011_even_more.sql'), 'INSERT INTO things VALUES (2);');
    const second = await runMigrations(db.url, silent, { directory: dir });
    expect(second).toEqual({ applied: [{ version: 11, name: 'even_more' }], version: 11 });

    const client = await connect(db.url);
    expect((await client.query('SELECT n FROM things ORDER BY n')).rows).toEqual([{ n: 1 }, { n: 2 }]);
    expect((await recorded(client)).map((m) => m.version)).toEqual([2, 10, 11]);
  });

  it('serialises concurrent runners so a slow migration is not applied twice', async () => {
    const db = await freshDatabase();
    await writeFile(join(dir, '001_slow.sql'), 'CREATE TABLE slow (n int); SELECT pg_sleep(0.3);');
    const logs = captureLogs();

    const outcomes = await Promise.all([
      runMigrations(db.url, logs.logger, { directory: dir }),
      runMigrations(db.url, logs.logger, { directory: dir }),
      runMigrations(db.url, logs.logger, { directory: dir }),
    ]);

    expect(outcomes.flatMap((o) => o.applied)).toEqual([{ version: 1, name: 'slow' }]);
    expect(outcomes.map((o) => o.version)).toEqual([1, 1, 1]);
    expect(logs.lines.filter((l) => String(l.msg).includes('waiting')).length).toBeGreaterThanOrEqual(1);
  });

  it('rolls back a failing migration, records nothing for it and stops there', async () => {
    const db = await freshDatabase();
    await writeFile(join(dir, '001_ok.sql'), 'CREATE TABLE ok (n int);');
    await writeFile(join(dir, '002_broken.sql'), 'CREATE TABLE half (n int); SELECT 1 / 0;');
    await writeFile(join(dir, '003_never.sql'), 'CREATE TABLE never (n int);');

    const failure = runMigrations(db.url, silent, { directory: dir });
    await expect(failure).rejects.toBeInstanceOf(MigrationError);
    await expect(failure).rejects.toThrow(/002_broken.*division by zero/);

    const client = await connect(db.url);
    expect((await recorded(client)).map((m) => m.version)).toEqual([1]);
    expect(await tableExists(client, 'ok')).toBe(true);
    expect(await tableExists(client, 'half')).toBe(false);
    expect(await tableExists(client, 'never')).toBe(false);
  });

  it('refuses to run when an applied migration was edited, and applies nothing else', async () => {
    const db = await freshDatabase();
    await writeFile(join(dir, '001_things.sql'), 'CREATE TABLE things (n int);');
    await runMigrations(db.url, silent, { directory: dir });

    await writeFile(join(dir, '001_things.sql'), 'CREATE TABLE things (n bigint);');
    await writeFile(join(dir, '002_more.sql'), 'CREATE TABLE more (n int);');

    const failure = runMigrations(db.url, silent, { directory: dir });
    await expect(failure).rejects.toBeInstanceOf(MigrationError);
    await expect(failure).rejects.toThrow(/001_things.*recorded checksum/s);
    const client = await connect(db.url);
    expect(await tableExists(client, 'more')).toBe(false);
    expect(await recorded(client)).toHaveLength(1);
  });

  it('does not mistake a change of line endings for an edit', async () => {
    const db = await freshDatabase();
    await writeFile(join(dir, '001_things.sql'), 'CREATE TABLE things (n int);\nINSERT INTO things VALUES (1);\n');
    await runMigrations(db.url, silent, { directory: dir });
    const lf = await readFile(join(dir, '001_things.sql'), 'utf8');
    await writeFile(join(dir, '001_things.sql'), lf.replace(/\n/g, '\r\n'));

    await expect(runMigrations(db.url, silent, { directory: dir })).resolves.toEqual({ applied: [], version: 1 });
  });

  it('rejects two files with the same version before touching the database', async () => {
    const db = await freshDatabase();
    await writeFile(join(dir, '001_a.sql'), 'CREATE TABLE a (n int);');
    await writeFile(join(dir, '001_b.sql'), 'CREATE TABLE b (n int);');

    await expect(runMigrations(db.url, silent, { directory: dir })).rejects.toThrow(/share version 1/);
    expect(await tableExists(await connect(db.url), 'schema_migrations')).toBe(false);
  });
});
