/**
 * What bounds one acquire besides the pool's own timeout: the request's
 * deadline and its abort signal (src/context/deadline.ts). Kept out of
 * core.ts so the queue discipline there stays about the queue: core.ts asks
 * here whether to refuse at once, and wraps its waiter with `boundWait`.
 *
 * A waiter whose signal fires (client gone, or deadline passed) is withdrawn
 * from the queue at once: it never takes a connection nobody will use.
 *
 * @example
 * const refused = refuseLate({ deadline, signal }); // an AppError, or undefined
 */
import { abandoned, abortedError, clientGone, deadlineExceeded, remainingMs } from '../../context/deadline.ts';
import type { AppError } from '../../errors/app-error.ts';
import type { Priority } from '../../context/priority.ts';

/** One acquire's bounds (the codel branch adds `priority` here). */
export interface AcquireRequest {
  /** performance.now() ms past which nobody waits for the connection; absent or Infinity for none. */
  deadline?: number;
  /** Aborted when the request is abandoned; the waiter is withdrawn. */
  signal?: AbortSignal;
  /** Orders and sheds the wait (codel.ts); unset is `normal`. */
  priority?: Priority;
  /**
   * performance.now() ms when the caller began waiting for a connection, if
   * before this acquire (a batched read waits for its batch's turn first; an
   * acquire whose idle connection failed validation goes on): the pool's
   * timeout counts from then, so one wait never adds up to more than it.
   */
  since?: number;
}

/** What is left of the pool's timeout for `request` (the whole of it when it has no `since`). */
export function poolWaitLeftMs(request: AcquireRequest, acquireTimeoutMs: number): number {
  return request.since === undefined ? acquireTimeoutMs : acquireTimeoutMs - (performance.now() - request.since);
}

/**
 * How long `request` may still wait for a connection: the smaller of what is
 * left of the pool's timeout and of its budget (never negative), and whether
 * the budget is the one that ends first (DEADLINE_EXCEEDED, not POOL_TIMEOUT).
 *
 * @example
 * const { waitMs, byDeadline } = waitBound(request, acquireTimeoutMs);
 */
export function waitBound(request: AcquireRequest, acquireTimeoutMs: number): { waitMs: number; byDeadline: boolean } {
  const budgetLeft = request.deadline === undefined ? Infinity : remainingMs({ deadline: request.deadline });
  const poolLeft = poolWaitLeftMs(request, acquireTimeoutMs);
  return { waitMs: Math.max(Math.min(poolLeft, budgetLeft), 0), byDeadline: budgetLeft < poolLeft };
}

/**
 * The error to refuse `request` with before it waits at all, or undefined:
 * already abandoned, or its remaining budget is below `expectedWaitMs` (the
 * wait the queue ahead of it is likely to cost; 0 when nobody is queued),
 * so that work which cannot finish in time never takes a place in line.
 */
export function refuseLate(request: AcquireRequest, expectedWaitMs = 0): AppError | undefined {
  if (request.signal?.aborted === true) return abortedError(request.signal, 'waiting for a connection');
  if (request.deadline !== undefined && remainingMs({ deadline: request.deadline }) <= expectedWaitMs) {
    return deadlineExceeded(
      expectedWaitMs > 0 ? 'waiting for a connection (the queue is slower than its budget)' : 'waiting for a connection',
    );
  }
  return undefined;
}

/**
 * The expected wait for a connection: an exponentially weighted mean of the
 * waits of served waiters (weight 1/4 to the newest), forgotten when the
 * queue empties, so that a past burst never refuses requests once the queue
 * is gone.
 *
 * @example
 * const wait = createWaitEstimate();
 * wait.observe(40, 3); // served after 40 ms, 3 still queued
 * wait.ms;             // 10
 */
export function createWaitEstimate(): { observe(waitedMs: number, stillQueued: number): void; readonly ms: number } {
  let ms = 0;
  return {
    observe(waitedMs, stillQueued) {
      ms = stillQueued === 0 ? 0 : ms + (waitedMs - ms) / 4;
    },
    get ms() {
      return ms;
    },
  };
}

/**
 * The waiter's resolve/reject, wrapped so that an abort withdraws it
 * (`withdraw`) and rejects it, and settling removes the abort listener; with
 * `waitMs`, the smaller of what is left of the pool's timeout and of the
 * request's budget.
 */
export function boundWait<T>(
  request: AcquireRequest,
  acquireTimeoutMs: number,
  resolve: (value: T) => void,
  reject: (err: Error) => void,
  withdraw: () => void,
): { resolve(value: T): void; reject(err: Error): void; waitMs: number; byDeadline: boolean } {
  const { waitMs, byDeadline } = waitBound(request, acquireTimeoutMs);
  const signal = request.signal;
  let onAbort: (() => void) | undefined;
  const settle = (): void => {
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  };
  const bound = {
    resolve: (value: T): void => {
      settle();
      resolve(value);
    },
    reject: (err: Error): void => {
      settle();
      reject(err);
    },
    waitMs,
    byDeadline,
  };
  if (signal !== undefined) {
    onAbort = (): void => {
      withdraw();
      if (clientGone(signal)) abandoned.queue++;
      bound.reject(abortedError(signal, 'waiting for a connection'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  }
  return bound;
}
