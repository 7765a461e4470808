/**
 * A throwaway PgBouncer in transaction mode in front of the test server:
 * its own ini in a temporary directory, a free port on 127.0.0.1, no Unix
 * socket, trust between the test and PgBouncer, and the test server's own
 * credentials from PgBouncer to it.
 *
 * PgBouncer refuses to run as root; as root it is started with `-u postgres`
 * (it drops to that user), so its directory must be readable by that user.
 *
 * Absent binary: the suite is skipped with a loud warning. Binary present
 * but PgBouncer does not start: a failure in CI (so a green CI means the
 * test ran), a loud skip elsewhere.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../../src/net/free-port.ts';

const SEARCH_PATH = `${process.env.PATH ?? ''}:/usr/sbin:/usr/local/sbin`;

export interface PgBouncer {
  port: number;
  /** A URL for database `name` through PgBouncer (no password: trust). */
  urlFor(name: string): string;
  /** SIGTERM, wait, remove the directory. */
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** The test server, as `postgres://user[:password]@host:port/db`. */
  serverUrl: string;
  /** Server connections per database and user: fewer than the app's pool, so connections are really shared. */
  poolSize: number;
  /** Startup parameters PgBouncer drops instead of refusing the connection. */
  ignoreStartupParameters: string[];
}

/** Where `pgbouncer` is, or undefined (with a loud warning) when it is not installed. */
export function findPgBouncer(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { env: { PATH: SEARCH_PATH }, encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status === 0 && path !== '') return path;
  console.warn(
    `\n${'!'.repeat(78)}\n!! SKIPPING the PgBouncer tests: pgbouncer is not installed.\n` +
      `!! Install it (apt-get install -y pgbouncer) to run them.\n${'!'.repeat(78)}\n`,
  );
  return undefined;
}

/**
 * Reports a PgBouncer that is installed but cannot start: thrown in CI, a loud warning (and undefined) elsewhere.
 *
 * @example
 * const bouncer = await startPgBouncer(binary, options).catch(cannotStart);
 */
export function cannotStart(err: unknown): undefined {
  const message = `pgbouncer is installed but did not start: ${err instanceof Error ? err.message : String(err)}`;
  if (process.env.CI) throw new Error(`${message} CI requires the PgBouncer tests to run.`);
  console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING the PgBouncer tests: ${message}\n${'!'.repeat(78)}\n`);
  return undefined;
}

const owned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of owned) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

/**
 * Starts PgBouncer and waits until a query passes through it.
 *
 * @example
 * const bouncer = await startPgBouncer(binary, { serverUrl: adminUrl, poolSize: 3, ignoreStartupParameters: ['statement_timeout'] });
 * const url = bouncer.urlFor(db.name);
 */
export async function startPgBouncer(binary: string, options: PgBouncerOptions): Promise<PgBouncer> {
  const server = new URL(options.serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-pgbouncer-'));
  const asRoot = process.getuid?.() === 0;
  const serverAuth = server.password === '' ? '' : ` password=${decodeURIComponent(server.password)}`;
  const ini = [
    '[databases]',
    // Every database name maps to the same-named database on the test server.
    `* = host=${server.hostname} port=${server.port || '5432'} user=${user}${serverAuth}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${join(dir, 'userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${options.poolSize}`,
    'max_client_conn = 500',
    `ignore_startup_parameters = ${options.ignoreStartupParameters.join(',')}`,
    'logfile =',
    'pidfile =',
    '',
  ].join('\n');
  await writeFile(join(dir, 'pgbouncer.ini'), ini);
  await writeFile(join(dir, 'userlist.txt'), `"${user}" ""\n`);
  if (asRoot) {
    await chmod(dir, 0o755);
    await chmod(join(dir, 'pgbouncer.ini'), 0o644);
    await chmod(join(dir, 'userlist.txt'), 0o644);
  }

  const args = asRoot ? ['-u', 'postgres', join(dir, 'pgbouncer.ini')] : [join(dir, 'pgbouncer.ini')];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  owned.add(child);
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      owned.delete(child);
      resolve();
    }),
  );
  const urlFor = (name: string) => `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(name)}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new pg.Client({ connectionString: urlFor(server.pathname.slice(1) || 'postgres'), connectionTimeoutMillis: 1_000 });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.query('SELECT 1');
      await probe.end();
      return { port, urlFor, stop };
    } catch (err) {
      await probe.end().catch(() => undefined);
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`${(err as Error).message}; pgbouncer said: ${output.trim() || '(nothing)'}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
