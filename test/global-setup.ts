/**
 * Gives the whole test run one Postgres server and tells every test file
 * where it is, through `inject('databaseAdminUrl')`.
 *
 * With TEST_DATABASE_URL set, that server is used and must answer: an
 * unreachable one fails the run instead of silently skipping the database
 * tests. Without it, an embedded server is started in a temporary directory
 * on a free port, so `npm test` passes on a machine with no Postgres at all,
 * and it is stopped and deleted at teardown.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { redactUrl } from '../src/config/redact.ts';
import { startEmbeddedPostgres } from '../src/db/embedded/postgres.ts';
import { createLogger } from '../src/log/logger.ts';
import { freePort } from '../src/net/free-port.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server's maintenance database; may contain a password. */
    databaseAdminUrl: string;
  }
}

/**
 * Vitest calls this once before any test file and the returned function once after all.
 *
 * @example
 * // vitest.config.ts
 * test: { globalSetup: ['test/global-setup.ts'] }
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const configured = process.env.TEST_DATABASE_URL?.trim();
  if (configured !== undefined && configured !== '') {
    await assertReachable(configured);
    project.provide('databaseAdminUrl', configured);
    return async () => undefined;
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-test-pg-'));
  try {
    const server = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      logger: createLogger('warn'),
      database: 'postgres',
    });
    project.provide('databaseAdminUrl', server.url);
    return async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function assertReachable(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `TEST_DATABASE_URL is set but ${redactUrl(url)} cannot be used: ${(err as Error).message}. ` +
        'Start that server, fix the URL, or unset TEST_DATABASE_URL to run the tests on an embedded Postgres.',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
