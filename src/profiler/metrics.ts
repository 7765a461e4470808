/**
 * The profiler's Prometheus metrics, read from its getters at scrape time.
 *
 * Totals only: per-fingerprint series would put one label value per
 * distinct statement into Prometheus (up to PROFILER_MAX_FINGERPRINTS, and
 * changing as fingerprints are evicted), which is the cardinality problem
 * /admin/queries exists to avoid.
 *
 * @example
 * registerAll(registry, [...poolMetrics(pool.counters), ...profilerMetrics(profiler)]);
 */
import { observed, type ObservedMetric } from '../metrics/observed.ts';
import type { QueryProfiler } from './profiler.ts';

export type ProfilerCounters = Pick<
  QueryProfiler,
  | 'queriesTotal'
  | 'slowQueriesTotal'
  | 'nPlusOneTotal'
  | 'fingerprintsTracked'
  | 'fingerprintsEvicted'
  | 'plansCaptured'
  | 'planFailures'
  | 'plansDropped'
>;

/**
 * @example
 * profilerMetrics(profiler).map((m) => m.name); // ['holdfast_db_queries_total', …]
 */
export function profilerMetrics(profiler: ProfilerCounters): ObservedMetric[] {
  return [
    observed(
      'counter',
      'holdfast_db_queries_total',
      'Statements profiled (EXPLAINs and admin reads excluded)',
      () => profiler.queriesTotal,
    ),
    observed('counter', 'holdfast_db_slow_queries_total', 'Statements slower than SLOW_QUERY_MS', () => profiler.slowQueriesTotal),
    observed(
      'counter',
      'holdfast_n_plus_one_total',
      'Requests that ran one fingerprint more than N_PLUS_ONE_THRESHOLD times (one per request and fingerprint)',
      () => profiler.nPlusOneTotal,
    ),
    observed(
      'gauge',
      'holdfast_db_fingerprints',
      'Distinct statement fingerprints tracked (at most PROFILER_MAX_FINGERPRINTS)',
      () => profiler.fingerprintsTracked,
    ),
    observed(
      'counter',
      'holdfast_db_fingerprints_evicted_total',
      'Fingerprints evicted (least total time) to stay within PROFILER_MAX_FINGERPRINTS',
      () => profiler.fingerprintsEvicted,
    ),
    observed('counter', 'holdfast_db_plans_captured_total', 'EXPLAIN plans captured for slow reads', () => profiler.plansCaptured),
    observed('counter', 'holdfast_db_plan_failures_total', 'EXPLAIN plan captures that failed', () => profiler.planFailures),
    observed(
      'counter',
      'holdfast_db_plans_dropped_total',
      'EXPLAIN plan captures dropped because the queue was full',
      () => profiler.plansDropped,
    ),
  ];
}
