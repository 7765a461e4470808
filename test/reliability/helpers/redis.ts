/**
 * A redis-server the Redis outage suite starts, kills and starts again on
 * the same port: never the machine's own Redis (6379), and only ever
 * stopped by the PID it was started with.
 *
 * Without a `redis-server` binary the suite cannot prove anything, so it
 * fails in CI (a green CI must mean it ran) and is skipped elsewhere with
 * a warning nobody can miss.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from '../../helpers/free-port.ts';

/**
 * True when `redis-server` can run here; throws in CI when it cannot, warns loudly otherwise.
 *
 * @example
 * const haveRedis = redisServerAvailable();
 * describe.skipIf(!haveRedis)('Redis killed', () => { … });
 */
export function redisServerAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return true;
  const why = probe.error?.message ?? `exit ${probe.status}`;
  const message = `redis-server cannot be started (${why}); the Redis outage reliability test cannot run.`;
  if (process.env.CI) throw new Error(`${message} CI requires it: install redis-server.`);
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n!! SKIPPING: ${message}\n!! Install redis-server to run it.\n${bar}\n`);
  return false;
}

/** A redis-server owned by this test process. */
export interface OwnRedis {
  port: number;
  url: string;
  /** PID while running, else undefined. */
  readonly pid: number | undefined;
  /** SIGKILL, as a crash or an OOM kill would; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts a new, empty server on the same port; resolves once it answers PING. */
  start(): Promise<void>;
}

const owned = new Set<ChildProcess>();
// A failed or interrupted run must not leave servers behind: killed by their own PIDs.
process.once('exit', () => {
  for (const child of owned) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
});

/**
 * @example
 * const redis = await startOwnRedis();
 * afterAll(() => redis.kill());
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    if (child !== undefined) return;
    const started = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    owned.add(started);
    started.once('exit', () => owned.delete(started));
    child = started;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const probe = rawRedis(url);
      try {
        await probe.connect();
        await probe.ping();
        return;
      } catch (err) {
        if (started.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${started.exitCode}`);
        if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        probe.disconnect();
      }
    }
  }

  async function kill(): Promise<void> {
    const running = child;
    child = undefined;
    if (running === undefined || running.pid === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(running.pid, 'SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url,
    get pid() {
      return child?.pid;
    },
    kill,
    start,
  };
}

/**
 * A client that never retries, for checks from the test itself. Caller disconnects it.
 *
 * @example
 * const raw = rawRedis(url); await raw.connect(); await raw.dbsize(); raw.disconnect();
 */
export function rawRedis(url: string): Redis {
  const client = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2_000 });
  client.on('error', () => undefined);
  return client;
}

/**
 * Keys under `prefix` in the Redis at `url` (SCAN, so it never blocks the server).
 *
 * @example
 * expect(await countKeys(redis.url, 'holdfast:rl:')).toBeGreaterThan(0);
 */
export async function countKeys(url: string, prefix: string): Promise<number> {
  const client = rawRedis(url);
  try {
    await client.connect();
    let cursor = '0';
    let n = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      n += keys.length;
      cursor = next;
    } while (cursor !== '0');
    return n;
  } finally {
    client.disconnect();
  }
}

/** What a Redis says about who uses it. */
export interface RedisActivity {
  /** `CLIENT SETNAME` names of the connected clients, e.g. holdfast-rate-limit, holdfast-cache. */
  clients: string[];
  /** Scripts run so far (the limiter's GCRA and the cache's reads, writes and invalidations). */
  scriptCalls: number;
}

/**
 * @example
 * const { clients, scriptCalls } = await redisActivity(redis.url);
 */
export async function redisActivity(url: string): Promise<RedisActivity> {
  const client = rawRedis(url);
  try {
    await client.connect();
    const list = String(await client.call('CLIENT', 'LIST'));
    const clients = [...list.matchAll(/\bname=(\S*)/g)].map((m) => m[1]!).filter((name) => name !== '');
    const stats = await client.info('commandstats');
    let scriptCalls = 0;
    for (const m of stats.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) scriptCalls += Number(m[1]);
    return { clients, scriptCalls };
  } finally {
    client.disconnect();
  }
}
