/**
 * Redis for the rate-limit suites: the machine's shared Redis (read from
 * TEST_REDIS_URL, default redis://127.0.0.1:6379, never stopped or flushed),
 * and throwaway `redis-server` processes started here, on free ports, that
 * tests may kill, freeze and restart.
 *
 * When Redis is unreachable the suites must not pass silently: in CI
 * (`CI` set) they fail; elsewhere they are skipped with a loud warning.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { freePort } from '../../helpers/free-port.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function unavailable(what: string, why: string): false {
  const message = `${what} is unavailable (${why}); the Redis rate-limit tests cannot run.`;
  if (process.env.CI) throw new Error(`${message} CI requires them: start Redis or set TEST_REDIS_URL.`);
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! SKIPPING Redis rate-limit tests: ${message}\n!! Start Redis or set TEST_REDIS_URL to run them.\n${bar}\n`);
  return false;
}

/**
 * True when the shared test Redis answers PING; false (after a loud warning) or a throw in CI otherwise.
 *
 * @example
 * const haveRedis = await sharedRedisAvailable();
 * describe.skipIf(!haveRedis)('…', () => { … });
 */
export async function sharedRedisAvailable(): Promise<boolean> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  let cause: string | undefined;
  redis.on('error', (err: Error) => {
    cause ??= err.message;
  });
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch (err) {
    return unavailable(`Redis at ${TEST_REDIS_URL}`, cause ?? (err as Error).message);
  } finally {
    redis.disconnect();
  }
}

/** True when a `redis-server` binary can be started; loud skip or CI failure otherwise. */
export function redisServerBinaryAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  return unavailable('the redis-server binary', probe.error?.message ?? `exit ${probe.status}`);
}

/** A redis-server this test process started; only it is ever stopped. */
export interface ThrowawayRedis {
  port: number;
  url: string;
  /** Starts (or restarts) the server on the same port and waits until it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL, as a crash would; waits for the process to exit. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that keeps connections open but never answers. */
  freeze(): void;
  thaw(): void;
}

/**
 * @example
 * const server = await startThrowawayRedis();
 * await server.kill(); await server.start();
 */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGCONT');
    running.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
