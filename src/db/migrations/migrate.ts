/**
 * Brings a database's schema up to date before the application uses it.
 *
 * Each `NNN_name.sql` in ./migrations runs once, in version order, under its
 * own savepoint, and is recorded in `schema_migrations` with a checksum. A
 * transaction-level advisory lock serialises runners (and stays correct
 * behind a transaction pooler), so several instances starting at once apply
 * each migration exactly once; advisory locks are per database, so
 * runners on different databases do not wait for each other. An applied
 * migration whose file has since changed stops start-up: the database no
 * longer matches what the code describes, and guessing is worse than failing.
 */
import pg from 'pg';
import type { Logger } from '../../log/logger.ts';
import { ADVISORY_LOCKS } from '../advisory-locks.ts';
import { readMigrationFiles, type MigrationFile } from './files.ts';

const LOCK = ADVISORY_LOCKS.migrations;

/**
 * Where to find the migrations; tests point this at a scratch directory.
 *
 * @example
 * await runMigrations(url, logger, { directory: '/tmp/migrations' });
 */
export interface MigrationOptions {
  /** Directory of `NNN_name.sql` files; defaults to the application's own. */
  directory?: string;
}

/**
 * What a run did.
 *
 * @example
 * const { applied, version } = await runMigrations(url, logger); // { applied: [{ version: 1, name: 'store' }], version: 1 }
 */
export interface MigrationOutcome {
  /** Migrations this call applied, in order; empty when already up to date. */
  applied: { version: number; name: string }[];
  /** Highest version recorded after the run (0 when there are none). */
  version: number;
}

/**
 * A migration that was edited after it was applied, or that failed to apply.
 * The message names the migration; start-up should stop on it.
 *
 * @example
 * try { await runMigrations(url, logger); } catch (err) { if (err instanceof MigrationError) process.exit(1); throw err; }
 */
export class MigrationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/**
 * Applies pending migrations. Given a connection string it opens and closes
 * its own client; given a client it uses it and leaves it open.
 *
 * @example
 * const { applied, version } = await runMigrations(config.database.url, logger);
 * logger.info({ applied: applied.length, version }, 'schema up to date');
 */
export async function runMigrations(
  target: string | pg.ClientBase,
  logger: Logger,
  options: MigrationOptions = {},
): Promise<MigrationOutcome> {
  const log = logger.child({ component: 'migrations' });
  const files = await readMigrationFiles(options.directory);
  const own = typeof target === 'string' ? new pg.Client({ connectionString: target }) : undefined;
  const client = own ?? (target as pg.ClientBase);
  if (own !== undefined) {
    own.on('error', () => undefined); // a dropped connection surfaces through the awaited query instead
    await own.connect();
  }
  try {
    // One transaction holds the lock for the whole run: a transaction-level
    // advisory lock is released by COMMIT or ROLLBACK on the same backend,
    // which a transaction pooler (PgBouncer) guarantees, whereas a session
    // lock's unlock could land on another backend and leave the lock held.
    // Each migration runs under its own savepoint, so a failing one is
    // rolled back alone and the ones before it are kept.
    await client.query('BEGIN');
    try {
      await takeLock(client, log);
      const outcome = await migrate(client, files, log);
      await client.query('COMMIT');
      return outcome;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    await own?.end();
  }
}

async function takeLock(client: pg.ClientBase, log: Logger): Promise<void> {
  const tried = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [...LOCK]);
  if (tried.rows[0]?.locked === true) return;
  log.info('another process is running migrations; waiting for it to finish');
  await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...LOCK]);
}

async function migrate(client: pg.ClientBase, files: MigrationFile[], log: Logger): Promise<MigrationOutcome> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  const recorded = await client.query<{ version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const done = new Map(recorded.rows.map((row) => [row.version, row]));
  verifyApplied(files, recorded.rows, log);

  const applied: MigrationOutcome['applied'] = [];
  for (const file of files) {
    if (done.has(file.version)) continue;
    const started = performance.now();
    try {
      await client.query('SAVEPOINT migration');
      await client.query(file.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        file.version,
        file.name,
        file.checksum,
      ]);
      await client.query('RELEASE SAVEPOINT migration');
    } catch (err) {
      // Keep what applied before it, then stop.
      await client.query('ROLLBACK TO SAVEPOINT migration').catch(() => undefined);
      await client.query('COMMIT').catch(() => undefined);
      throw new MigrationError(`Migration ${label(file)} failed and was rolled back: ${(err as Error).message}`, {
        cause: err,
      });
    }
    log.info({ version: file.version, name: file.name, ms: Math.round(performance.now() - started) }, 'migration applied');
    applied.push({ version: file.version, name: file.name });
  }

  const versions = [...done.keys(), ...applied.map((m) => m.version)];
  return { applied, version: versions.length === 0 ? 0 : Math.max(...versions) };
}

function verifyApplied(files: MigrationFile[], recorded: { version: number; name: string; checksum: string }[], log: Logger): void {
  const byVersion = new Map(files.map((f) => [f.version, f]));
  const changed: string[] = [];
  for (const row of recorded) {
    const file = byVersion.get(row.version);
    if (file === undefined) {
      // A newer build applied it; an older build (a rollback) may still run
      // as long as later migrations only add to the schema.
      log.warn({ version: row.version, name: row.name }, 'database has a migration this build does not know');
    } else if (file.checksum !== row.checksum) {
      changed.push(`  ${label(file)}: recorded checksum ${row.checksum.slice(0, 12)}…, file now ${file.checksum.slice(0, 12)}…`);
    }
  }
  if (changed.length > 0) {
    throw new MigrationError(
      `Refusing to start: applied migration${changed.length === 1 ? ' was' : 's were'} edited since being applied:\n` +
        `${changed.join('\n')}\n` +
        'Restore the original file(s) and put the change in a new migration.',
    );
  }
}

function label(file: MigrationFile): string {
  return `${String(file.version).padStart(3, '0')}_${file.name}`;
}
