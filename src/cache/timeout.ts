/**
 * Bounds a promise in time, so that no cache call can make a request wait
 * longer than REDIS_COMMAND_TIMEOUT_MS even when a command needs more than
 * one round trip (EVALSHA, then EVAL after NOSCRIPT) or ioredis' own timer
 * is not armed (a command still being written to a stalled socket).
 */

/**
 * The cache gave up waiting; the operation may still complete later.
 *
 * @example
 * if (err instanceof CacheTimeoutError) { ... }
 */
export class CacheTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`cache ${what} took longer than ${ms} ms`);
    this.name = 'CacheTimeoutError';
  }
}

/**
 * Settles like `promise`, or rejects with {@link CacheTimeoutError} after `ms`.
 *
 * @example
 * await withTimeout(client.ping(), 100, 'ping');
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheTimeoutError(what, ms)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
