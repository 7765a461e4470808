/**
 * The pool's periodic sweep, once a second: close connections idle longer
 * than `idleTimeoutMs` above `min` (the coldest first), drop idle ones found
 * broken, warn about leases held longer than `leakMs`, and top the pool back
 * up to `min`. Lifetimes are enforced on release instead (a leased
 * connection is never cut), so the sweep needs no timer per connection.
 */
import type { Logger } from '../../log/logger.ts';
import type { PooledConnection } from './connection.ts';
import type { PoolCounters } from './counters.ts';

const SWEEP_EVERY_MS = 1000;

/** What the sweep reads and acts on. */
export interface Sweepable {
  readonly min: number;
  readonly all: ReadonlySet<PooledConnection>;
  /** The idle stack: warmest last, coldest at index 0. */
  readonly idle: PooledConnection[];
  destroy(conn: PooledConnection): void;
  replenish(): void;
}

export interface SweepOptions {
  idleTimeoutMs: number;
  /** 0 is off. */
  leakMs: number;
  counters: PoolCounters;
  logger: Logger;
}

/** Sweeps every second until the returned function is called; never keeps the process alive. */
export function startHousekeeping(pool: Sweepable, options: SweepOptions): () => void {
  const timer = setInterval(() => sweep(pool, options), SWEEP_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}

export function sweep(pool: Sweepable, options: SweepOptions, now = Date.now()): void {
  while (pool.idle.length > 0 && pool.all.size > pool.min) {
    const coldest = pool.idle[0]!;
    if (now - coldest.lastReleasedAt < options.idleTimeoutMs) break;
    pool.destroy(coldest);
  }
  for (const conn of [...pool.idle]) if (conn.broken) pool.destroy(conn);
  if (options.leakMs > 0) reportLeaks(pool.all, options, now);
  pool.replenish();
}

function reportLeaks(all: Iterable<PooledConnection>, { leakMs, counters, logger }: SweepOptions, now: number): void {
  for (const conn of all) {
    if (conn.leaseSite === undefined || conn.leakReported || now - conn.leasedAt <= leakMs) continue;
    conn.leakReported = true;
    counters.leaks++;
    logger.warn(
      { connectionId: conn.id, heldMs: now - conn.leasedAt, acquiredAt: conn.leaseSite.stack },
      `connection held for more than ${leakMs} ms: possible leak`,
    );
  }
}
