/**
 * The pool's Prometheus metrics, named after HikariCP's and PostgREST's
 * (`hikaricp_connections_active`, `pgrst_db_pool_timeouts_total`, …) under
 * the one `holdfast_` prefix, so dashboards built for either read naturally.
 */
import type { PoolStats } from '../db/pool/counters.ts';
import { observed, observedHistogram, type ObservedMetric } from './observed.ts';

/** Reads the pool's one counters object (`pool.counters`) at scrape time. */
export function poolMetrics(pool: PoolStats): ObservedMetric[] {
  const p = 'holdfast_db_pool';
  return [
    observed('gauge', `${p}_connections`, 'Open connections (idle + active)', () => pool.size),
    observed('gauge', `${p}_connections_active`, 'Connections leased to a request', () => pool.active),
    observed('gauge', `${p}_connections_idle`, 'Connections open and free', () => pool.idle),
    observed('gauge', `${p}_connections_pending`, 'Connections being opened', () => pool.pending),
    observed('gauge', `${p}_waiting`, 'Requests waiting for a connection', () => pool.waiting),
    observed('gauge', `${p}_max`, 'Configured maximum connections (DB_POOL_MAX)', () => pool.max),
    observed('gauge', `${p}_min`, 'Configured minimum connections (DB_POOL_MIN)', () => pool.min),
    observed('gauge', `${p}_limit`, 'Connections that may be leased now: the adaptive limit, or max when it is off', () => pool.limit),
    observedHistogram(`${p}_acquire_seconds`, 'Time a request waited for a connection', () => pool.acquireWait.snapshot()),
    observed('counter', `${p}_acquires_total`, 'Connection acquires requested', () => pool.acquires),
    observed('counter', `${p}_timeouts_total`, 'Acquires that gave up after DB_POOL_TIMEOUT (503 POOL_TIMEOUT)', () => pool.timeouts),
    observed(
      'counter',
      `${p}_queue_full_total`,
      'Acquires refused because DB_POOL_QUEUE_MAX were waiting (503 POOL_QUEUE_FULL)',
      () => pool.queueFull,
    ),
    observed('counter', `${p}_exhausted_total`, 'Acquires refused in nowait mode (503 POOL_EXHAUSTED)', () => pool.exhausted),
    observed('counter', `${p}_connections_created_total`, 'Connections opened', () => pool.created),
    observed(
      'counter',
      `${p}_connections_destroyed_total`,
      'Connections closed (broken, recycled, idle or shutdown)',
      () => pool.destroyed,
    ),
    observed('counter', `${p}_connections_recycled_total`, 'Connections replaced after DB_POOL_RECYCLE', () => pool.recycled),
    observed('counter', `${p}_connect_errors_total`, 'Failed attempts to open a connection', () => pool.connectErrors),
    observed(
      'counter',
      `${p}_host_probes_total`,
      'Probes of the database host (SELECT 1 on a connection of its own) because a statement went unanswered 250 ms',
      () => pool.hostProbes,
    ),
    observed(
      'counter',
      `${p}_host_silent_total`,
      'Probes the host did not answer within 1 s: its statements in flight failed at once (503 DB_UNAVAILABLE)',
      () => pool.hostSilences,
    ),
    observed('counter', `${p}_leaks_total`, 'Connections held longer than DB_POOL_LEAK_MS', () => pool.leaks),
  ];
}
