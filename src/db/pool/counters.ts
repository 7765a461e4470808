/**
 * The pool's numbers, in one object that /metrics, the dashboard, /api/health
 * and the tests all read.
 *
 * Gauges are not counted but derived from the live collections on every
 * read, as pg-pool derives `totalCount`, `idleCount` and `waitingCount`, so
 * they cannot drift from the truth. Totals are counted where the event
 * happens; only the pool's own modules write them, readers get
 * {@link PoolStats}, through which nothing can be written.
 */
import { Histogram } from '../../stats/histogram.ts';

/** The live state the gauges are read from. */
export interface LiveState {
  readonly all: ReadonlySet<unknown>;
  readonly idle: readonly unknown[];
  readonly waiters: { readonly length: number; oldestEnqueuedAt(): number | undefined };
  /** Connections being opened. */
  readonly pending: number;
  /** The adaptive limit when on, else max. */
  readonly limit: number;
}

export class PoolCounters {
  readonly min: number;
  readonly max: number;
  /** Time each acquire waited for a connection. */
  readonly acquireWait = new Histogram();

  /** Acquires that waited while no database host was selected (multi-host failover), and how long. */
  held = 0;
  readonly holdWait = new Histogram();

  /** Waiters refused by CoDel (POOL_OVERLOADED), by priority. */
  readonly shed = { critical: 0, high: 0, normal: 0, low: 0 };
  /** Waits refused or ended by the request's deadline (DEADLINE_EXCEEDED), by priority. */
  readonly deadlineShed = { critical: 0, high: 0, normal: 0, low: 0 };
  /** Idempotent-read retries the budget allowed, and refused. */
  retriesSpent = 0;
  retriesRefused = 0;

  acquires = 0;
  timeouts = 0;
  queueFull = 0;
  exhausted = 0;
  created = 0;
  destroyed = 0;
  recycled = 0;
  connectErrors = 0;
  leaks = 0;
  validations = 0;
  validationFailures = 0;
  /** Probes of a host made because a statement to it went unanswered (host-probe.ts), and those it did not answer. */
  hostProbes = 0;
  hostSilences = 0;

  readonly #live: LiveState;

  constructor(min: number, max: number, live: LiveState) {
    this.min = min;
    this.max = max;
    this.#live = live;
  }

  /** Open connections, idle and leased. */
  get size(): number {
    return this.#live.all.size;
  }
  get idle(): number {
    return this.#live.idle.length;
  }
  get active(): number {
    return this.#live.all.size - this.#live.idle.length;
  }
  get waiting(): number {
    return this.#live.waiters.length;
  }
  get pending(): number {
    return this.#live.pending;
  }
  /** How long the oldest waiter has waited so far (ms), 0 with none: the delay CoDel judges new waiters by. */
  get queueDelayMs(): number {
    const oldest = this.#live.waiters.oldestEnqueuedAt();
    return oldest === undefined ? 0 : Math.max(Date.now() - oldest, 0);
  }
  /** Most connections that may be leased now: the adaptive limit, or max. */
  get limit(): number {
    return this.#live.limit;
  }
}

/** The counters as their readers see them. */
export type PoolStats = Readonly<PoolCounters>;
