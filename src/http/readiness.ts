/**
 * Readiness: can this instance serve traffic right now?
 *
 * Answered with one `SELECT 1` through the pool, bounded at `timeoutMs` and
 * cached for `cacheMs`, so a flood of probes costs at most one query per
 * cache period; probes arriving while a check runs share its answer. A check
 * that outlives its timeout is abandoned, not cancelled: until it settles no
 * new one starts, so a hung database cannot pile up probe queries in the
 * pool's wait queue.
 */
import { DeadlineError, withDeadline } from '../async/deadline.ts';
import { backgroundContext } from '../context/context.ts';
import type { Queryable } from '../db/types.ts';

export interface Readiness {
  ready: boolean;
  /** Why not ready; safe to show to clients (no driver messages). */
  reason?: string;
}

export interface ReadinessOptions {
  db: Queryable;
  isShuttingDown(): boolean;
  timeoutMs?: number;
  cacheMs?: number;
  /** Injected for tests. */
  now?: () => number;
}

const PROBE = { name: 'readiness-probe', text: 'SELECT 1' };
/** One probe answers many requests (cached, shared), so it is charged to none of them. */
const READINESS_PROBE = backgroundContext('readiness probe');

/**
 * @example
 * const readiness = createReadinessCheck({ db: pool, isShuttingDown: lifecycle.isShuttingDown });
 * const { ready, reason } = await readiness();
 */
export function createReadinessCheck(options: ReadinessOptions): () => Promise<Readiness> {
  const { db, isShuttingDown, timeoutMs = 1000, cacheMs = 1000, now = Date.now } = options;
  let cached: { at: number; result: Readiness } | undefined;
  let running: Promise<Readiness> | undefined;
  let abandoned: Promise<unknown> | undefined;

  async function probe(): Promise<Readiness> {
    if (abandoned !== undefined) return { ready: false, reason: 'the previous database check has not finished' };
    const query = db.query(READINESS_PROBE, PROBE, { idempotent: true });
    try {
      await withDeadline(query, timeoutMs, 'the readiness probe');
      return { ready: true };
    } catch (err) {
      if (!(err instanceof DeadlineError)) return { ready: false, reason: 'the database is not reachable' };
      const pending = query
        .catch(() => undefined)
        .finally(() => {
          if (abandoned === pending) abandoned = undefined;
        });
      abandoned = pending;
      return { ready: false, reason: `the database did not answer within ${timeoutMs} ms` };
    }
  }

  return async function checkReadiness(): Promise<Readiness> {
    if (isShuttingDown()) return { ready: false, reason: 'the service is shutting down' };
    if (cached !== undefined && now() - cached.at < cacheMs) return cached.result;
    running ??= probe().then((result) => {
      cached = { at: now(), result };
      running = undefined;
      return result;
    });
    return running;
  };
}
