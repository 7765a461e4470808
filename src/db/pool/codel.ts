/**
 * CoDel (Nichols & Jacobson, "Controlling Queue Delay") applied to the wait
 * for a connection, with adaptive LIFO and priority admission, as Facebook's
 * "Fail at scale" describes for its servers.
 *
 * Why delay and not length: a queue of 500 that drains in 5 ms is fine and a
 * queue of 20 behind a locked table is not; the wait is what clients feel.
 * If the minimum wait over an `interval` stayed above `target`, the queue is
 * standing (not a burst): new waiters are refused at once and the newest are
 * served first (their clients are still there), until one wait falls below
 * the target. Vegas (adaptive-limit.ts) sizes how many statements run; this
 * decides how long the rest may wait.
 *
 * A pure state machine fed wait samples and asked for admission; the clock
 * is injected so tests drive it with fake time.
 *
 * @example
 * const codel = createCodel({ targetMs: 10, intervalMs: 100 });
 * codel.onDequeue(waitedMs);          // every served waiter's wait
 * codel.admit('low', queueDelayMs);   // false: refuse with POOL_OVERLOADED
 * codel.lifo;                         // serve newest first
 */
import { rank, type Priority } from '../../context/priority.ts';

export interface CodelOptions {
  targetMs: number;
  intervalMs: number;
  now?: () => number;
}

export interface Codel {
  /** True while the minimum wait has stayed above the target for an interval. */
  readonly dropping: boolean;
  /** Serve newest first: on while dropping. */
  readonly lifo: boolean;
  /** Feeds the wait of a waiter just served (ms). */
  onDequeue(waitedMs: number): void;
  /**
   * Whether a new waiter of `priority` may queue, given the age of the
   * oldest waiter now (`headDelayMs`). Critical and high always; while
   * dropping nothing else; otherwise normal (the interval is its burst
   * allowance) and low only while the delay is under half the target or
   * nothing more important waits (`aboveLowWaiting` 0: shedding it would
   * protect no one; the dropping state still bounds its wait).
   */
  admit(priority: Priority, headDelayMs: number, aboveLowWaiting?: number): boolean;
}

export function createCodel(options: CodelOptions): Codel {
  const { targetMs, intervalMs } = options;
  const now = options.now ?? Date.now;
  /** When the wait first went above target in this episode; undefined while below. */
  let aboveSince: number | undefined;
  let dropping = false;

  function observe(delayMs: number): void {
    if (delayMs < targetMs) {
      aboveSince = undefined;
      dropping = false;
      return;
    }
    const t = now();
    aboveSince ??= t;
    if (t - aboveSince >= intervalMs) dropping = true;
  }

  return {
    get dropping() {
      return dropping;
    },
    get lifo() {
      return dropping;
    },
    onDequeue: function onDequeue(waitedMs: number) {
      observe(waitedMs);
    },
    admit: function admit(priority: Priority, headDelayMs: number, aboveLowWaiting = 1) {
      if (priority === 'critical') return true;
      // An empty queue has no delay: a dropping state must not outlive it.
      if (headDelayMs === 0) observe(0);
      else observe(headDelayMs);
      if (rank(priority) >= rank('high')) return true;
      if (dropping) return false;
      // Low is shed first, before the queue stands: a burst of reports must not delay orders.
      return priority === 'normal' || headDelayMs < targetMs / 2 || aboveLowWaiting === 0;
    },
  };
}

/**
 * Connections kept for `high` and above: max(1, 20% of the limit).
 *
 * @example
 * highReserve(10, 0.2); // 2
 */
export function highReserve(limit: number, share: number): number {
  return Math.max(1, Math.floor(limit * share));
}
