/**
 * The one way Holdfast opens a Redis connection (rate limiter and cache),
 * set up to fail fast: a decision or a cache read that waits for Redis is
 * worse than one made without it, because memory or the database could have
 * answered in that time.
 *
 * - `enableOfflineQueue: false`: while disconnected, commands are refused at
 *   once instead of queueing until a reconnect that may never come.
 * - `maxRetriesPerRequest: 0`: a command lost with its connection is not
 *   resent; the caller already fell back.
 * - `commandTimeout`: every command is bounded (callers bound again with
 *   `withDeadline`, which also covers multi-command steps).
 * - `socketTimeout`: a connection that stops answering (a host gone without
 *   a TCP reset) is dropped and redialled, rather than kept "ready" until
 *   keepalive notices minutes later.
 * - `retryStrategy`: reconnection goes on in the background, forever, with
 *   capped exponential backoff and jitter so instances do not stampede.
 * Failures surface through failed commands (and are logged once by each
 * caller's fallback), so the `error` event is only swallowed here; without
 * a listener ioredis would print every reconnect attempt.
 */
import { Redis } from 'ioredis';

export interface RedisClientOptions {
  url: string;
  commandTimeoutMs: number;
  /** Shown in `CLIENT LIST`, so operators can tell the connections apart. */
  connectionName: string;
  /** Longest pause between reconnect attempts. Default 2000 ms. */
  maxReconnectDelayMs?: number;
  /** Don't dial until `connect()` is called. Default false. */
  lazyConnect?: boolean;
}

/**
 * @example
 * const redis = createRedisClient({ url: config.redis.url, commandTimeoutMs: 100, connectionName: 'holdfast-cache' });
 * // … later
 * redis.disconnect();
 */
export function createRedisClient(options: RedisClientOptions): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 2000;
  const redis = new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    socketTimeout: Math.max(1000, options.commandTimeoutMs * 10),
    // Connecting may take longer than one command on a cold network; it never blocks a request.
    connectTimeout: Math.max(1000, options.commandTimeoutMs * 10),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), maxDelay) + Math.floor(Math.random() * 100),
    autoResubscribe: false,
    connectionName: options.connectionName,
    lazyConnect: options.lazyConnect ?? false,
  });
  redis.on('error', () => undefined);
  return redis;
}
