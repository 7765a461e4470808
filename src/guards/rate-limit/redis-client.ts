/**
 * The ioredis client the limiter creates for itself from REDIS_URL, set up
 * to fail fast instead of queueing: a rate-limit decision that waits for
 * Redis to come back is worse than one made in memory now.
 *
 * - `enableOfflineQueue: false`: while disconnected, commands fail at once.
 * - `maxRetriesPerRequest: 0`: a command cut off by a dropped connection
 *   fails instead of being resent after the reconnect.
 * - `commandTimeout`: a connected but silent Redis fails the command.
 * - `retryStrategy`: reconnect for ever in the background, backing off to
 *   2 s with jitter, so instances do not reconnect in lockstep.
 * Connection errors are reported through failed commands (and logged once
 * by the resilient store), so the `error` event is only swallowed here;
 * without a listener ioredis would print every reconnect attempt.
 */
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  commandTimeoutMs: number;
  /** Longest pause between reconnect attempts. Default 2000 ms. */
  maxReconnectDelayMs?: number;
}

/**
 * @example
 * const redis = createRedisClient('redis://cache.internal:6379', { commandTimeoutMs: 100 });
 * // … later
 * redis.disconnect();
 */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1000, options.commandTimeoutMs * 10),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay) + Math.floor(Math.random() * 100),
    connectionName: 'holdfast-rate-limit',
    lazyConnect: true,
  });
  redis.on('error', () => undefined);
  return redis;
}
