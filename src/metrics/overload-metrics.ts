/**
 * The overload control's Prometheus metrics (docs/OVERLOAD.md, "Reading the
 * metrics"): what CoDel sees (the queue delay), what it decides (dropping,
 * LIFO), whom it sheds and why, and what the retry budget allows. Read from
 * the pool's counters, CoDel and the budget at scrape time, like the pool's
 * own metrics (observed.ts), so the hot path pays an integer increment.
 *
 * @example
 * registerAll(registry, overloadMetrics(pool.counters, { codel, targetMs: 10, retryBudget }));
 */
import type { Codel } from '../db/pool/codel.ts';
import type { PoolStats } from '../db/pool/counters.ts';
import type { RetryBudget } from '../db/pool/retry-budget.ts';
import { PRIORITIES } from '../context/priority.ts';
import { observed, type ObservedMetric } from './observed.ts';

export interface OverloadSources {
  /** Absent when POOL_CODEL_ENABLED is off: the CoDel gauges read 0. */
  codel?: Codel | undefined;
  targetMs: number;
  retryBudget?: RetryBudget | undefined;
}

export function overloadMetrics(pool: PoolStats, sources: OverloadSources): ObservedMetric[] {
  const p = 'holdfast_db_pool';
  const { codel, retryBudget } = sources;
  return [
    observed(
      'gauge',
      `${p}_queue_delay_seconds`,
      'How long the oldest request waiting for a connection has waited so far (0 with none): the delay CoDel judges new waiters by',
      () => pool.queueDelayMs / 1000,
    ),
    observed('gauge', `${p}_codel_target_seconds`, 'CoDel target (POOL_CODEL_TARGET_MS); 0 when CoDel is off', () =>
      codel === undefined ? 0 : sources.targetMs / 1000,
    ),
    observed(
      'gauge',
      `${p}_codel_dropping`,
      '1 while the queue delay has stood above the CoDel target for an interval: normal and low requests are refused',
      () => (codel?.dropping === true ? 1 : 0),
    ),
    observed('gauge', `${p}_lifo`, '1 while the queue is served newest first (adaptive LIFO, on while CoDel drops)', () =>
      codel?.lifo === true ? 1 : 0,
    ),
    observed(
      'counter',
      `${p}_shed_total`,
      'Requests refused a connection, by priority and reason: codel (503 POOL_OVERLOADED) or deadline (503 DEADLINE_EXCEEDED, refused or ended while waiting)',
      () =>
        PRIORITIES.flatMap((priority) => [
          { value: pool.shed[priority], labels: { priority, reason: 'codel' } },
          { value: pool.deadlineShed[priority], labels: { priority, reason: 'deadline' } },
        ]),
    ),
    observed(
      'counter',
      'holdfast_db_retries_total',
      'Idempotent-read retries after a lost connection, by outcome of the retry budget',
      () => [
        { value: pool.retriesSpent, labels: { outcome: 'spent' } },
        { value: pool.retriesRefused, labels: { outcome: 'refused' } },
      ],
    ),
    observed(
      'gauge',
      'holdfast_db_retry_budget_remaining',
      'Retries the budget (DB_RETRY_BUDGET_RATIO of the requests over DB_RETRY_BUDGET_WINDOW_S) would allow now',
      () => retryBudget?.remaining ?? 0,
    ),
  ];
}
