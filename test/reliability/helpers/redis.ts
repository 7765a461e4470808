/**
 * What the Redis outage suite reads from its Redis: keys under a prefix and
 * who uses it. Starting and killing the server, checking that `redis-server`
 * exists and raw clients live in test/helpers/redis-server.ts.
 */
import { rawClient } from '../../helpers/redis-server.ts';

/**
 * Keys under `prefix` in the Redis at `url` (SCAN, so it never blocks the server).
 *
 * @example
 * expect(await countKeys(redis.url, 'holdfast:rl:')).toBeGreaterThan(0);
 */
export async function countKeys(url: string, prefix: string): Promise<number> {
  const client = rawClient(url);
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
  const client = rawClient(url);
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
