/**
 * The ioredis client the cache uses, configured to fail fast: a cache that
 * waits for Redis is worse than no cache, because the database could have
 * answered in that time.
 *
 * - `enableOfflineQueue: false`: while disconnected, commands are refused at
 *   once instead of queueing until a reconnect that may never come.
 * - `maxRetriesPerRequest: 0`: a command lost with its connection is not
 *   resent; the request already fell back to the database.
 * - `commandTimeout`: every command is bounded (the guard bounds again).
 * - `socketTimeout`: a connection that stops answering (a host gone without
 *   a TCP reset) is dropped and redialled, rather than kept "ready" until
 *   keepalive notices minutes later.
 * - `retryStrategy`: reconnection goes on in the background, forever, with
 *   capped exponential backoff and jitter so instances do not stampede.
 */
import { Redis } from 'ioredis';

/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 2_000;

/**
 * Creates a client that starts connecting at once. Attach an `error`
 * listener before the event loop turns, or ioredis prints every failure.
 *
 * @example
 * const client = createRedisClient({ url: 'redis://127.0.0.1:6379', commandTimeoutMs: 100 });
 */
export function createRedisClient(options: { url: string; commandTimeoutMs: number }): Redis {
  return new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    socketTimeout: Math.max(1_000, options.commandTimeoutMs * 10),
    // Connecting may take longer than one command on a cold network; it never blocks a request.
    connectTimeout: Math.max(1_000, options.commandTimeoutMs * 10),
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 10), MAX_RECONNECT_DELAY_MS) + Math.floor(Math.random() * 100),
    autoResubscribe: false,
    connectionName: 'holdfast-cache',
  });
}
