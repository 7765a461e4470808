/**
 * The read replicas as the composition root builds them from
 * DATABASE_REPLICA_URLS: one pool per replica, the lag sampler over them and
 * the router the read paths use, with their metrics and health view.
 *
 * Kept out of src/app.ts so the root only decides whether replicas exist;
 * with none configured it builds nothing and the stores get the primary pool.
 */
import type { Context } from '../../context/context.ts';
import type { Logger } from '../../log/logger.ts';
import { redactUrl } from '../../config/redact.ts';
import { observed, type ObservedMetric } from '../../metrics/observed.ts';
import { createPool, type ConnectionPool, type PoolObserver, type PoolOptions } from '../pool/pool.ts';
import type { Database } from '../types.ts';
import { createLagSampler, type LagSampler, type ReplicaState } from './lag-sampler.ts';
import { createReplicaRouter, type ReadReason, type ReadTarget, type ReplicaRouter } from './router.ts';

export interface ReplicaSetOptions {
  urls: readonly string[];
  primary: Database;
  /** Options every replica pool shares (its connection string is added per replica). */
  pool: Omit<PoolOptions, 'connectionString' | 'hosts' | 'limiter' | 'observer' | 'onQuery'>;
  /** The observer of each replica's pool, by its name (src/telemetry/pool-meter.ts); absent: none. */
  observerFor?: (name: string) => PoolObserver;
  /** Each replica pool's statement hook, by its name and URL (its spans name the replica: src/telemetry/db-spans.ts); absent: none. */
  onQueryOf?: (name: string, url: string) => PoolOptions['onQuery'];
  maxLagMs: number;
  sampleMs: number;
  tokenWaitMs: number;
  /** True while no primary host is selected (failover): replicas are then judged as of the primary's last sample. */
  primaryDown?: () => boolean;
  logger: Logger;
}

export interface ReplicaSet {
  /** Reads to a replica in rotation, the rest to the primary (router.ts). */
  readonly db: ReplicaRouter;
  readonly sampler: LagSampler;
  readonly pools: readonly { name: string; pool: ConnectionPool }[];
  /** holdfast_db_replica_lag_seconds, holdfast_db_replica_in_rotation, holdfast_db_reads_total. */
  metrics(): ObservedMetric[];
  states(): readonly ReplicaState[];
  /** The primary's WAL position now: after a write commits, what its Consistency-Token carries. */
  currentLsn(ctx: Context): Promise<bigint>;
  /** Starts the pools (min 0: an unreachable replica never blocks start-up) and the sampler. */
  start(): Promise<void>;
  /** Stops the sampler and ends every replica pool. */
  stop(timeoutMs?: number): Promise<void>;
}

/** `host:port` of a replica URL: its name in logs, metrics and health; never its password. */
export function replicaName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port === '' ? '5432' : parsed.port}`;
  } catch {
    return redactUrl(url);
  }
}

/**
 * @example
 * const replicas = createReplicaSet({ urls, primary: pool, pool: poolOptions, maxLagMs: 5000, sampleMs: 1000, tokenWaitMs: 100, logger });
 * await replicas.start();
 * const products = createProductStore(replicas.db);
 */
export function createReplicaSet(options: ReplicaSetOptions): ReplicaSet {
  const { primary, logger } = options;
  const pools = options.urls.map((url, i) => {
    // Two replicas on one host:port (different databases) still need distinct names.
    const base = replicaName(url);
    const name = options.urls.slice(0, i).some((u) => replicaName(u) === base) ? `${base}#${i}` : base;
    const pool = createPool({
      ...options.pool,
      min: 0,
      connectionString: url,
      logger: logger.child({ replica: name }),
      observer: options.observerFor?.(name),
      onQuery: options.onQueryOf?.(name, url),
    });
    return { name, pool };
  });
  const replicas = pools.map(({ name, pool }) => ({ name, db: pool }));
  const sampler = createLagSampler({
    primary,
    replicas,
    maxLagMs: options.maxLagMs,
    periodMs: options.sampleMs,
    logger,
    primaryDown: options.primaryDown,
  });
  const reads = new Map<string, { target: ReadTarget; reason: ReadReason; count: number }>();
  const db = createReplicaRouter({
    primary,
    replicas,
    sampler,
    tokenWaitMs: options.tokenWaitMs,
    onRead(target, reason) {
      const key = `${target}/${reason}`;
      const seen = reads.get(key);
      if (seen === undefined) reads.set(key, { target, reason, count: 1 });
      else seen.count++;
    },
  });

  return {
    db,
    sampler,
    pools,
    states: () => sampler.states(),
    currentLsn: (ctx) => db.currentLsn(ctx),
    metrics: () => [
      observed('gauge', 'holdfast_db_replica_lag_seconds', 'Replay lag of each read replica at the last sample (NaN before it)', () =>
        sampler.states().map((s) => ({ value: s.lagSeconds, labels: { host: s.name } })),
      ),
      observed('gauge', 'holdfast_db_replica_in_rotation', 'Whether each read replica serves reads now (1) or not (0)', () =>
        sampler.states().map((s) => ({ value: s.inRotation ? 1 : 0, labels: { host: s.name } })),
      ),
      observed(
        'counter',
        'holdfast_db_reads_total',
        'Reads by where they ran: target replica (reason ok), or primary because of lag, a Consistency-Token no replica had reached, or no usable replica',
        () => [...reads.values()].map((r) => ({ value: r.count, labels: { target: r.target, reason: r.reason } })),
      ),
    ],
    async start() {
      for (const { pool } of pools) await pool.start();
      await sampler.sampleOnce();
      sampler.start();
    },
    async stop(timeoutMs) {
      sampler.stop();
      await Promise.all(pools.map(({ pool }) => pool.end(timeoutMs)));
    },
  };
}
