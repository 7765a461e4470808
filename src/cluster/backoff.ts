/**
 * How long the primary waits before replacing a crashed worker.
 *
 * A worker that crashes at start (database down, a bad deploy) would crash
 * again at once; restarting it immediately spins the CPU, floods the log and
 * hammers the database with connection attempts. So each crash in a row
 * doubles the pause, up to a cap, and a worker that stayed up for a while
 * starts the count afresh: one crash a day is restarted at once.
 */

export interface BackoffPolicy {
  /** Pause after the first crash in a row. */
  baseMs: number;
  /** The pause never grows beyond this. */
  maxMs: number;
  /** A worker that ran at least this long resets the count. */
  stableMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 250, maxMs: 15_000, stableMs: 30_000 };

/**
 * The pause before restart number `crashesInARow` (1 for the first), with
 * up to 10% jitter so that workers crashing together do not restart together.
 *
 * @example
 * restartDelayMs(1) // ≈ 250
 * restartDelayMs(4) // ≈ 2000
 * restartDelayMs(20) // ≈ 15000 (the cap)
 */
export function restartDelayMs(crashesInARow: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(crashesInARow, 1) - 1, 30);
  const delay = Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
  return Math.round(delay * (1 + 0.1 * random()));
}

/**
 * The crash count after a worker that ran for `uptimeMs` crashed.
 *
 * @example
 * nextCrashCount(3, 500)    // 4: still crashing at start
 * nextCrashCount(3, 60_000) // 1: it had recovered; this is a new incident
 */
export function nextCrashCount(previous: number, uptimeMs: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  return uptimeMs >= policy.stableMs ? 1 : previous + 1;
}
