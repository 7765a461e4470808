/**
 * The pools' numbers under OpenTelemetry's semantic-convention names for
 * database client connections (`db.client.connection.*`), so that a
 * dashboard built for any OpenTelemetry-instrumented pool reads ours too.
 * /metrics keeps serving the same pools under `holdfast_db_pool_*`.
 *
 * The gauges are observed, not counted: at each collection they read the
 * pool's live state (PoolStats, src/db/pool/counters.ts), as /metrics does,
 * so the two cannot disagree; `timeouts` is the pool's own total. Only the
 * three durations are recorded as they happen, through the pool's observer
 * hook (PoolOptions.observer), in seconds, into the buckets the conventions
 * advise for database client durations (`db.client.operation.duration`'s:
 * they advise none for the pool's own).
 *
 * Every point carries `db.client.connection.pool.name`: `holdfast` for the
 * pool of DATABASE_URL (as on the `pool acquire` spans), a replica's
 * `host:port` for its own pool.
 *
 * @example
 * const pools = createPoolMeter(metering.meter);
 * const pool = createPool({ …, observer: pools.observer(PRIMARY_POOL_NAME) });
 * pools.watch(PRIMARY_POOL_NAME, pool.counters);
 */
import type { Attributes, Histogram, Meter } from '@opentelemetry/api';
import type { PoolStats } from '../db/pool/counters.ts';
import type { PoolObserver } from '../db/pool/pool.ts';

/** The name of the pool of DATABASE_URL, here and on `pool acquire` spans; replicas are named by replicaName (src/db/replicas/replica-set.ts). */
export const PRIMARY_POOL_NAME = 'holdfast';

const POOL_NAME = 'db.client.connection.pool.name';
const STATE = 'db.client.connection.state';

/** The semantic conventions' advised boundaries for database client durations (s). */
export const DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export interface PoolMeter {
  /**
   * The hook to pass as the `observer` of the pool named `name`: records
   * `create_time`, `wait_time` and `use_time`.
   */
  observer(name: string): PoolObserver;
  /** Observes `stats` under `name` at every collection, until the returned function is called. */
  watch(name: string, stats: PoolStats): () => void;
}

/**
 * The instruments, created once on `meter`; each pool is then bound by name.
 *
 * @example
 * const pools = createPoolMeter(metering.meter);
 * const stop = pools.watch('10.0.0.7:5432', replicaPool.counters);
 */
export function createPoolMeter(meter: Meter): PoolMeter {
  const gauge = (name: string, unit: string, description: string) => meter.createObservableUpDownCounter(name, { unit, description });
  const count = gauge(
    'db.client.connection.count',
    '{connection}',
    'The number of connections that are currently in state described by the `state` attribute.',
  );
  const idleMax = gauge('db.client.connection.idle.max', '{connection}', 'The maximum number of idle open connections allowed.');
  const idleMin = gauge('db.client.connection.idle.min', '{connection}', 'The minimum number of idle open connections allowed.');
  // `.limit` is the current name; `.max` the one it replaced, which dashboards built before the rename still query.
  const limit = gauge('db.client.connection.limit', '{connection}', 'The maximum number of open connections allowed.');
  const max = gauge(
    'db.client.connection.max',
    '{connection}',
    'The maximum number of open connections allowed (the name before db.client.connection.limit).',
  );
  const pending = gauge(
    'db.client.connection.pending_requests',
    '{request}',
    'The number of current pending requests for an open connection.',
  );
  const timeouts = meter.createObservableCounter('db.client.connection.timeouts', {
    unit: '{timeout}',
    description: 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
  });
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS_S } });
  const createTime = seconds('db.client.connection.create_time', 'The time it took to create a new connection.');
  const waitTime = seconds('db.client.connection.wait_time', 'The time it took to obtain an open connection from the pool.');
  const useTime = seconds('db.client.connection.use_time', 'The time between borrowing a connection and returning it to the pool.');

  const watched = new Map<string, PoolStats>();
  meter.addBatchObservableCallback(
    (result) => {
      for (const [name, stats] of watched) {
        const pool: Attributes = { [POOL_NAME]: name };
        result.observe(count, stats.idle, { ...pool, [STATE]: 'idle' });
        result.observe(count, stats.active, { ...pool, [STATE]: 'used' });
        // No separate idle cap: every open connection may sit idle, and `min` are kept open.
        result.observe(idleMax, stats.max, pool);
        result.observe(idleMin, stats.min, pool);
        result.observe(limit, stats.max, pool);
        result.observe(max, stats.max, pool);
        result.observe(pending, stats.waiting, pool);
        result.observe(timeouts, stats.timeouts, pool);
      }
    },
    [count, idleMax, idleMin, limit, max, pending, timeouts],
  );

  return {
    observer(name) {
      const pool: Attributes = { [POOL_NAME]: name };
      return {
        leaseEnded({ waitMs, useMs }) {
          waitTime.record(waitMs / 1000, pool);
          useTime.record(useMs / 1000, pool);
        },
        connected(ms) {
          createTime.record(ms / 1000, pool);
        },
      };
    },
    watch(name, stats) {
      watched.set(name, stats);
      return () => {
        if (watched.get(name) === stats) watched.delete(name);
      };
    },
  };
}
