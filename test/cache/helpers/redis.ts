/**
 * Key-prefix helpers for the cache tests on the shared Redis: each test uses
 * a unique prefix and deletes only its keys after. Starting Redis, checking
 * it is there and raw clients live in test/helpers/redis-server.ts.
 */
import { randomUUID } from 'node:crypto';
import { rawClient } from '../../helpers/redis-server.ts';

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
