/**
 * Bounds a promise in time, so that a slow or silent dependency (Redis,
 * above all) can never hold a request longer than its budget, even when one
 * step needs more than one round trip (EVALSHA, then EVAL after NOSCRIPT)
 * or a client's own timer is not armed (a command still being written to a
 * stalled socket). The losing promise is left to settle on its own;
 * `Promise.race` has already handled its rejection. The timer is cleared on
 * every path, so no wait keeps the event loop alive after it is decided.
 */

/** Raised when the limit passes first; the work may still complete later. */
export class DeadlineError extends Error {
  readonly what: string;
  readonly ms: number;

  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'DeadlineError';
    this.what = what;
    this.ms = ms;
  }
}

/**
 * Settles like `work`, or rejects with {@link DeadlineError} after `ms`.
 * `work` may be any thenable (a Fastify instance's `close()`, a pg query).
 *
 * @example
 * const reply = await withDeadline(redis.ping(), 100, 'redis PING'); // throws DeadlineError after 100 ms
 */
export async function withDeadline<T>(work: PromiseLike<T>, ms: number, what: string): Promise<T> {
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
