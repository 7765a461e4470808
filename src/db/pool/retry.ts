/**
 * The one retry of an idempotent statement whose connection died under it,
 * on a connection opened after the failure.
 *
 * Whatever killed the first connection (a restart, a pg_terminate_backend
 * sweeping the pool) may not have reached its siblings yet, those being
 * opened included; a sibling can even answer a validation query and die
 * right after. Only a backend started after the failure is safe from the
 * same event. Writes are never retried: the statement may have committed.
 * Nor is a read that met silence (a statement or connect we stopped waiting
 * for): that is the path to the server, which a fresh connection shares.
 */
import type { AcquireRequest } from './acquire-bound.ts';
import { isAppError } from '../../errors/app-error.ts';
import type { PooledConnection } from './connection.ts';
import type { PoolCounters } from './counters.ts';
import type { RetryBudget } from './retry-budget.ts';
import { databaseUnreachable, isNoHostYet, isSilence, poolClosed } from './errors.ts';

/** The parts of the pool a retry works with. */
export interface RetryablePool {
  readonly closed: boolean;
  readonly max: number;
  readonly all: ReadonlySet<PooledConnection>;
  readonly idle: readonly PooledConnection[];
  readonly pending: number;
  readonly counters: PoolCounters;
  acquire(request?: AcquireRequest): Promise<PooledConnection>;
  open(): Promise<PooledConnection>;
  destroy(conn: PooledConnection): void;
  scheduleReplenish(): void;
}

/**
 * Runs `attempt` with the pool's normal acquire; when `idempotent` and it
 * fails with DB_UNAVAILABLE, runs it once more with a fresh connection.
 *
 * @example
 * const rows = await withFreshRetry(pool, options?.idempotent, (acquire) => runOn(acquire, statement));
 */
export async function withFreshRetry<T>(
  pool: RetryablePool,
  idempotent: boolean | undefined,
  attempt: (acquire: () => Promise<PooledConnection>) => Promise<T>,
  request: AcquireRequest = {},
  budget?: RetryBudget,
): Promise<T> {
  budget?.onRequest();
  try {
    return await attempt(() => pool.acquire(request));
  } catch (err) {
    if (idempotent !== true || !isAppError(err, 'DB_UNAVAILABLE') || pool.closed) throw err;
    // Already held for a primary up to its bound: a retry would only hold it as long again.
    if (isNoHostYet(err)) throw err;
    // Silence, not a reset: a fresh connection to the same server would only wait out a connect timeout.
    if (isSilence(err)) throw err;
    // A failover fails every in-flight read at once: retries may not double the load.
    if (budget !== undefined && !budget.tryRetry()) {
      pool.counters.retriesRefused++;
      throw err;
    }
    if (budget !== undefined) pool.counters.retriesSpent++;
    const failedAt = performance.now();
    // A new wait, as before: the first one's start (`since`) does not shorten it.
    return attempt(() => acquireFresh(pool, failedAt, { ...request, since: undefined }));
  }
}

/**
 * A connection whose connect began after `failedAt` (`performance.now()`).
 * Opened beside the queue: the request already held a connection, it keeps
 * its turn. At max, room is made by closing a connection that sat idle
 * through the failure (as suspect as the one that died); with none, the
 * request queues like any other and trades an older connection it is
 * handed for a new one in the same slot.
 */
async function acquireFresh(pool: RetryablePool, failedAt: number, request: AcquireRequest): Promise<PooledConnection> {
  if (pool.closed) throw poolClosed();
  if (pool.all.size + pool.pending >= pool.max) {
    const suspect = pool.idle.find((conn) => conn.suspect);
    if (suspect === undefined) {
      const conn = await pool.acquire(request);
      if (conn.connectStartedAt > failedAt) return conn;
      pool.destroy(conn);
      return openForRetry(pool);
    }
    pool.destroy(suspect);
  }
  pool.counters.acquires++;
  return openForRetry(pool);
}

async function openForRetry(pool: RetryablePool): Promise<PooledConnection> {
  let conn: PooledConnection;
  try {
    conn = await pool.open();
  } catch (err) {
    pool.scheduleReplenish();
    throw databaseUnreachable(err);
  }
  if (pool.closed) {
    pool.destroy(conn);
    throw poolClosed();
  }
  return conn;
}
