/**
 * A PostgreSQL primary and its streaming standby, owned by one suite, for
 * the failover and replica tests: real servers, real WAL streaming, so that
 * replay lag, `pg_wal_replay_pause()` and `pg_ctl promote` behave as in
 * production.
 *
 * Debian's PostgreSQL binaries (`/usr/lib/postgresql/<major>/bin`), not the
 * embedded package's: standbys are made with `pg_basebackup -R`, which the
 * embedded package does not ship. Run as root, every binary runs as the
 * `postgres` user (initdb refuses root) through `runuser`. Both servers
 * listen on 127.0.0.1 on free ports, with trust authentication, in a
 * temporary directory; `destroy()` stops them by their postmaster's PID file
 * (`pg_ctl stop`) and deletes it. The machine's shared server is never touched.
 *
 * @example
 * const pair = await startReplicatedPostgres();
 * afterAll(() => pair.destroy());
 * await pair.stop('primary', 'immediate');
 * await pair.promote();
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/net/free-port.ts';

const run = promisify(execFile);

export type Role = 'primary' | 'standby';
export type StopMode = 'smart' | 'fast' | 'immediate';

export interface Server {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: trust authentication, no secret in it. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly running: boolean;
}

export interface ReplicatedPostgres {
  readonly primary: Server;
  readonly standby: Server;
  /** A connected client that is not the app's (its own application_name). Caller ends it. */
  admin(which: Role): Promise<pg.Client>;
  /** `pg_ctl stop -m <mode>`; resolves once the server has exited. */
  stop(which: Role, mode?: StopMode): Promise<void>;
  /** Starts a stopped server again on the same port; resolves once it accepts connections. */
  start(which: Role): Promise<void>;
  /** `pg_ctl promote` on the standby; resolves once it accepts writes. */
  promote(): Promise<void>;
  /** Pauses (or resumes) WAL replay on the standby; streaming goes on, replay lag grows. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Resolves once the standby has replayed everything the primary has written so far. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  /** Stops both servers if running and deletes their directories. Idempotent. */
  destroy(): Promise<void>;
}

const ADMIN_NAME = 'holdfast-replication-admin';

/** Debian's newest PostgreSQL bin directory holding what a standby needs, or undefined. */
export function replicationBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].every((tool) => existsSync(join(bin, tool)))) return bin;
  }
  return undefined;
}

/**
 * Initialises a primary, starts it, clones a standby from it with
 * `pg_basebackup -R` (which writes standby.signal and primary_conninfo) and
 * starts that too. Throws when Debian's binaries are missing.
 */
export async function startReplicatedPostgres(): Promise<ReplicatedPostgres> {
  const bin = replicationBinaries();
  if (bin === undefined) throw new Error('PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup) not found under /usr/lib/postgresql');
  const root = await mkdtemp(join(tmpdir(), 'holdfast-replication-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chown(root, ...(await postgresIds()));
  await chmod(root, 0o700);

  const tool = (name: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, name), ...args]) : run(join(bin, name), args);

  const servers: Record<Role, { port: number; dataDir: string; running: boolean }> = {
    primary: { port: await freePort(), dataDir: join(root, 'primary'), running: false },
    standby: { port: await freePort(), dataDir: join(root, 'standby'), running: false },
  };
  const urlOf = (which: Role) => `postgres://postgres@127.0.0.1:${servers[which].port}/postgres`;

  const start = async (which: Role) => {
    const s = servers[which];
    if (s.running) return;
    // -w waits until the server accepts connections (or fails, with its log).
    // max_standby_*_delay=-1: after a long pause, replay would otherwise cancel at once any standby
    // statement whose snapshot conflicts with a replayed cleanup (40001), the helper's own
    // pg_wal_replay_resume() and replay polls included; replay waits for them instead (they are short).
    const options =
      `-p ${s.port} -c listen_addresses=127.0.0.1 -k ${s.dataDir} -c max_connections=200 -c fsync=off -c wal_keep_size=256MB` +
      ' -c max_standby_streaming_delay=-1 -c max_standby_archive_delay=-1';
    await tool('pg_ctl', ['-D', s.dataDir, '-l', join(s.dataDir, 'server.log'), '-o', options, '-w', '-t', '60', 'start']);
    s.running = true;
  };
  const stop = async (which: Role, mode: StopMode = 'fast') => {
    const s = servers[which];
    if (!s.running) return;
    s.running = false;
    await tool('pg_ctl', ['-D', s.dataDir, '-m', mode, '-w', '-t', '60', 'stop']);
  };
  const admin = async (which: Role) => {
    const client = new pg.Client({ connectionString: urlOf(which), application_name: ADMIN_NAME });
    client.on('error', () => undefined); // surfaced through the awaited query instead
    await client.connect();
    return client;
  };
  const onStandby = async <T>(fn: (client: pg.Client) => Promise<T>) => {
    const client = await admin('standby');
    try {
      return await fn(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  };

  try {
    await tool('initdb', ['-D', servers.primary.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await start('primary');
    await tool('pg_basebackup', [
      '-h',
      '127.0.0.1',
      '-p',
      String(servers.primary.port),
      '-U',
      'postgres',
      '-D',
      servers.standby.dataDir,
      '-R',
      '-X',
      'stream',
      '--no-sync',
    ]);
    await start('standby');
  } catch (err) {
    await Promise.allSettled([stop('standby', 'immediate'), stop('primary', 'immediate')]);
    await rm(root, { recursive: true, force: true });
    throw err;
  }

  const view = (which: Role): Server => ({
    url: urlOf(which),
    port: servers[which].port,
    dataDir: servers[which].dataDir,
    get running() {
      return servers[which].running;
    },
  });
  let destroying: Promise<void> | undefined;

  return {
    primary: view('primary'),
    standby: view('standby'),
    admin,
    stop,
    start,
    async promote() {
      await tool('pg_ctl', ['-D', servers.standby.dataDir, '-w', '-t', '60', 'promote']);
      // -w waits for the end of recovery; check it took.
      const inRecovery = await onStandby(async (c) => (await c.query<{ r: boolean }>('select pg_is_in_recovery() as r')).rows[0]!.r);
      if (inRecovery) throw new Error('standby still in recovery after pg_ctl promote');
    },
    pauseReplay: () => onStandby(async (c) => void (await c.query('select pg_wal_replay_pause()'))),
    resumeReplay: () => onStandby(async (c) => void (await c.query('select pg_wal_replay_resume()'))),
    async waitForReplay(timeoutMs = 10_000) {
      const primary = await admin('primary');
      let target: string;
      try {
        target = (await primary.query<{ lsn: string }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
      } finally {
        await primary.end().catch(() => undefined);
      }
      await onStandby(async (c) => {
        const until = Date.now() + timeoutMs;
        for (;;) {
          const { rows } = await c.query<{ done: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as done', [target]);
          if (rows[0]!.done) return;
          if (Date.now() > until) throw new Error(`standby did not replay up to ${target} within ${timeoutMs} ms`);
          // Polling a server-side wait: pg_sleep is the server's clock, not a test sleep.
          await c.query('select pg_sleep(0.02)');
        }
      });
    },
    destroy: () =>
      (destroying ??= (async () => {
        await Promise.allSettled([stop('standby', 'immediate'), stop('primary', 'immediate')]);
        await rm(root, { recursive: true, force: true });
      })()),
  };
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout } = await run('id', ['postgres']);
  const uid = /uid=(\d+)/.exec(stdout)?.[1];
  const gid = /gid=(\d+)/.exec(stdout)?.[1];
  if (uid === undefined || gid === undefined) throw new Error(`cannot read the postgres user's ids from: ${stdout}`);
  return [Number(uid), Number(gid)];
}
