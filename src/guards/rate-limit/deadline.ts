/**
 * Bounds a promise by a time limit, so a slow or silent Redis can never hold
 * a request longer than `REDIS_COMMAND_TIMEOUT_MS`.
 *
 * ioredis's own `commandTimeout` does the same for clients we create; this
 * also covers a client handed in by the caller, whatever its options, and the
 * EVALSHA → EVAL retry as one unit. The losing promise is left to settle on
 * its own (`Promise.race` has already handled its rejection).
 */

/** Raised when the limit passes first. */
export class DeadlineError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * @example
 * const reply = await withDeadline(redis.ping(), 100, 'redis PING'); // throws DeadlineError after 100 ms
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
