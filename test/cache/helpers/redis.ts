/**
 * Redis for the cache tests: the shared server (TEST_REDIS_URL, default
 * 127.0.0.1:6379), used only under a unique key prefix per test and cleaned
 * up after, and throwaway `redis-server` processes that tests may kill,
 * pause and restart — by their own PID, never the shared server.
 *
 * Missing Redis fails the run in CI (so a green CI always means the Redis
 * tests ran) and skips with a loud warning elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redactUrl } from '../../../src/config/redact.ts';
import { freePort } from '../../helpers/free-port.ts';

/** Where the shared test Redis is expected. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function unavailable(what: string, reason: string): undefined {
  const message = `${what} is unavailable (${reason}); the Redis cache tests cannot run.`;
  if (process.env.CI) throw new Error(`${message} CI requires them: start Redis or set TEST_REDIS_URL.`);
  console.warn(`\n${'!'.repeat(78)}\n!! SKIPPING: ${message}\n!! Start redis-server or set TEST_REDIS_URL to run them.\n${'!'.repeat(78)}\n`);
  return undefined;
}

/**
 * A short-lived client that does not retry, for probing and raw checks.
 *
 * @example
 * const raw = rawClient(url); await raw.ping(); raw.disconnect();
 */
export function rawClient(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  client.on('error', () => undefined);
  return client;
}

/**
 * The shared Redis URL if it answers PING; otherwise fails in CI or warns and returns undefined.
 *
 * @example
 * const url = await sharedRedisUrl();
 * describe.skipIf(url === undefined)('with redis', () => { ... });
 */
export async function sharedRedisUrl(): Promise<string | undefined> {
  const client = rawClient(TEST_REDIS_URL);
  try {
    await client.connect();
    await client.ping();
    return TEST_REDIS_URL;
  } catch (err) {
    return unavailable(`Redis at ${redactUrl(TEST_REDIS_URL)}`, (err as Error).message);
  } finally {
    client.disconnect();
  }
}

/**
 * A key prefix no other test (or run) uses.
 *
 * @example
 * createQueryCache(settings, { logger, redis, prefix: uniquePrefix() });
 */
export function uniquePrefix(): string {
  return `holdfast-test:${randomUUID()}:`;
}

/**
 * Deletes every key under `prefix` (and only those).
 *
 * @example
 * afterEach(() => deleteByPrefix(url, prefix));
 */
export async function deleteByPrefix(url: string, prefix: string): Promise<void> {
  const client = rawClient(url);
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await client.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}

/** A redis-server this test owns. */
export interface ThrowawayRedis {
  port: number;
  /** With the password, if any. */
  url: string;
  /** PID of the running server, undefined while killed. */
  readonly pid: number | undefined;
  /** SIGKILL, as a crash would; waits for the exit. */
  kill(): Promise<void>;
  /** SIGSTOP: the socket stays open and nothing answers, as a stalled server. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Starts a new server on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** Kills the server if running and removes its directory. */
  stop(): Promise<void>;
}

const owned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of owned) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

/**
 * Whether `redis-server` can be started here; fails in CI, warns otherwise.
 *
 * @example
 * const canSpawn = await redisServerAvailable();
 */
export async function redisServerAvailable(): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const child = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
  return ok ? true : (unavailable('redis-server (binary)', 'not found on PATH') ?? false);
}

/**
 * Starts `redis-server --port <free> --save '' --appendonly no`, optionally with a password.
 *
 * @example
 * const redis = await startThrowawayRedis({ password: 's3cret' });
 * afterAll(() => redis.stop());
 */
export async function startThrowawayRedis(options: { password?: string } = {}): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'holdfast-test-redis-'));
  const auth = options.password === undefined ? '' : `:${options.password}@`;
  const url = `redis://${auth}127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
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
        if (Date.now() > deadline || started.exitCode !== null) throw new Error(`throwaway redis-server on port ${port} did not start: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.pid === undefined) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(running.pid, 'SIGKILL');
    await exited;
  }

  function signal(name: NodeJS.Signals): void {
    if (child?.pid === undefined) throw new Error('throwaway redis is not running');
    process.kill(child.pid, name);
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
      await kill(); // SIGKILL also ends a stopped process
      await rm(dir, { recursive: true, force: true });
    },
  };
}
