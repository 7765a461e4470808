/**
 * Redis for the tests: the machine's shared Redis (TEST_REDIS_URL, default
 * redis://127.0.0.1:6379 — never stopped or flushed; tests use it only under
 * their own key prefixes), and throwaway `redis-server` processes started
 * here on free ports, which tests may kill, pause and restart — always by
 * their own PID, never the shared server.
 *
 * When Redis is unavailable a suite must not pass silently: in CI (`CI` set)
 * it fails; elsewhere it is skipped with a warning nobody can miss.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redactUrl } from '../../src/config/redact.ts';
import { freePort } from '../../src/net/free-port.ts';

/** Where the shared test Redis is expected. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Throws in CI; otherwise warns loudly so the caller can skip. */
function unavailable(what: string, why: string, tests: string): false {
  const message = `${what} is unavailable (${why}); ${tests} cannot run.`;
  if (process.env.CI) throw new Error(`${message} CI requires them: start Redis / install redis-server, or set TEST_REDIS_URL.`);
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! SKIPPING: ${message}\n!! Start Redis / install redis-server, or set TEST_REDIS_URL, to run them.\n${bar}\n`);
  return false;
}

/**
 * A short-lived client that never retries, for probing and raw checks from the test itself. Caller disconnects it.
 *
 * @example
 * const raw = rawClient(url); await raw.connect(); await raw.ping(); raw.disconnect();
 */
export function rawClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  client.on('error', () => undefined);
  return client;
}

/**
 * TEST_REDIS_URL if the shared Redis answers PING; otherwise throws in CI, or warns loudly and returns undefined.
 *
 * @example
 * const url = await sharedRedisUrl('the Redis cache tests');
 * describe.skipIf(url === undefined)('with redis', () => { … });
 */
export async function sharedRedisUrl(tests: string): Promise<string | undefined> {
  const client = rawClient(TEST_REDIS_URL);
  try {
    await client.connect();
    await client.ping();
    return TEST_REDIS_URL;
  } catch (err) {
    unavailable(`Redis at ${redactUrl(TEST_REDIS_URL)}`, (err as Error).message, tests);
    return undefined;
  } finally {
    client.disconnect();
  }
}

/**
 * True when a `redis-server` binary can be started here; throws in CI when it cannot, warns loudly otherwise.
 *
 * @example
 * const canSpawn = redisServerAvailable('the Redis outage tests');
 * describe.skipIf(!canSpawn)('Redis killed', () => { … });
 */
export function redisServerAvailable(tests: string): boolean {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  return unavailable('the redis-server binary', probe.error?.message ?? `exit ${probe.status}`, tests);
}

/** A redis-server this test process started; only it is ever stopped. */
export interface ThrowawayRedis {
  port: number;
  /** With the password, if any. */
  url: string;
  /** PID of the running server, undefined while killed. */
  readonly pid: number | undefined;
  /** SIGKILL, as a crash or an OOM kill would; resolves once it has exited. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open and nothing answers, as a stalled server. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts a new, empty server on the same port (nothing is persisted) unless one runs; resolves once it answers PING. */
  restart(): Promise<void>;
  /** Kills the server if running and removes its directory. */
  stop(): Promise<void>;
}

const owned = new Set<ChildProcess>();
// A failed or interrupted run must not leave servers behind: killed by their own PIDs.
process.once('exit', () => {
  for (const child of owned) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

function running(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no`, optionally with a password.
 *
 * @example
 * const redis = await startThrowawayRedis({ password: 's3cret' });
 * await redis.kill(); await redis.restart();
 * afterAll(() => redis.stop());
 */
export async function startThrowawayRedis(options: { password?: string } = {}): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-test-redis-'));
  const auth = options.password === undefined ? '' : `:${options.password}@`;
  const url = `redis://${auth}127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (running(child)) return;
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    owned.add(started);
    started.once('exit', () => owned.delete(started));
    child = started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = rawClient(url);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (err) {
        if (started.exitCode !== null)
          throw new Error(`throwaway redis-server on port ${port} exited with ${started.exitCode}`, { cause: err });
        if (Date.now() > deadline)
          throw new Error(`throwaway redis-server on port ${port} did not answer: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function kill(): Promise<void> {
    const current = child;
    child = undefined;
    if (!running(current)) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    process.kill(current.pid!, 'SIGKILL'); // SIGKILL also ends a stopped (paused) process
    await exited;
  }

  function signal(name: NodeJS.Signals): void {
    if (!running(child)) throw new Error('throwaway redis is not running');
    process.kill(child.pid!, name);
  }

  await start();
  return {
    port,
    url,
    get pid() {
      return child?.pid;
    },
    kill,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    restart: start,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
