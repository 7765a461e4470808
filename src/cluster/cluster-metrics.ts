/**
 * The primary's side of `/metrics` with WEB_CONCURRENCY > 1: asks every
 * ready worker for its registry as JSON, merges them with prom-client's
 * `AggregatorRegistry.aggregate`, adds the primary's own series, and returns
 * the text a worker then serves (see worker-registry.ts for why).
 *
 * Why not `AggregatorRegistry#clusterMetrics()`: it asks every connected
 * worker, including one still starting that cannot answer yet, and then
 * fails the whole scrape after 5 s; one slow worker fails it too. Here only
 * ready workers are asked, each bounded by its own timeout, and a scrape
 * answers with those that replied, counting the rest in
 * `holdfast_cluster_scrape_missing_workers`.
 *
 * What the aggregated series mean. Every metric of ours is summed, which is
 * right for nearly all of them:
 *
 * - counters and histograms (requests, acquires, timeouts, queries, cache
 *   hits, 429s, 503s, …): totals of the whole cluster, as one process would
 *   count them;
 * - pool gauges: totals too: `holdfast_db_pool_max` is the most connections
 *   the cluster may open (workers × DB_POOL_MAX), `_connections` how many it
 *   holds now, `_waiting` how many requests wait in all workers;
 * - one-hot state gauges (`holdfast_pressure_state{state}`,
 *   `holdfast_cache_mode{mode}`, `holdfast_rate_limit_fallback`,
 *   `holdfast_pressure_leak_suspected`): the number of workers in that state;
 * - Node's default metrics: sums (total RSS, heap, CPU seconds), except
 *   those prom-client aggregates otherwise (event-loop lag: average, min,
 *   max; version: first; start time: omitted).
 *
 * A sum means nothing for a few gauges: a p99 or a ratio per process. Those
 * are aggregated as the worst worker's value ({@link WORST_WORKER}), so an
 * alert on them fires when any worker is in trouble.
 *
 * Restarts: a worker's counters die with it, and a sum that drops looks to
 * Prometheus like a reset of the whole cluster's counter (rate() would then
 * count everything since zero again). So the last values scraped from a
 * worker that exited are kept ("retired") and added to every later scrape;
 * the sums then never go down. Increments after a worker's last scrape are
 * lost with it, as they would be with a single process that crashed.
 */
import { AggregatorRegistry, Registry } from 'prom-client';
import { observed, registerAll } from '../metrics/observed.ts';

/** A metric as `registry.getMetricsAsJSON()` returns it, as far as aggregation cares. */
export interface MetricJson {
  name: string;
  help: string;
  type: string;
  aggregator?: string;
  /** `labels` may be missing: our observed metrics leave it out when there are none. */
  values: { value: number; labels?: Record<string, string | number>; metricName?: string }[];
}

/** Per-process gauges where a sum is meaningless; the cluster shows the highest worker's. */
export const WORST_WORKER: ReadonlySet<string> = new Set([
  'holdfast_pressure_event_loop_delay_p99_seconds',
  'holdfast_pressure_event_loop_utilization',
  'holdfast_pressure_heap_used_ratio',
  'holdfast_pressure_heap_floor_slope_mb_per_minute',
  'holdfast_db_fingerprints',
  'holdfast_process_max_fds',
  // Each worker samples its replicas itself: the cluster's lag is the worst one seen.
  'holdfast_db_replica_lag_seconds',
]);

/** A ready worker, as the aggregation needs it. */
export interface MetricsSource {
  id: number;
  /** The worker's registry as JSON (getMetricsAsJSON), over IPC. */
  collect(): Promise<MetricJson[]>;
}

export interface ClusterMetricsOptions {
  /** Ready workers now. */
  workers: () => readonly MetricsSource[];
  configuredWorkers: number;
  /** Worker restarts since start. */
  restarts: () => number;
  /** Cache invalidations relayed to other workers, and those that did not reach one in time. */
  relay: () => { sent: number; failed: number };
}

/**
 * @example
 * const metrics = createClusterMetrics({ workers: () => supervisor.ready().map(...), configuredWorkers: 2, restarts: () => supervisor.restarts, relay });
 * rpc.handle('metrics.aggregate', () => metrics.scrape());
 * supervisor.on('exit', (id) => metrics.retire(id));
 */
export interface ClusterMetrics {
  /** Prometheus text for the whole cluster. */
  scrape(): Promise<string>;
  /** Keeps an exited worker's last counters so the sums never go down. */
  retire(workerId: number): Promise<void>;
}

/**
 * The primary's metrics view; see {@link ClusterMetrics}.
 *
 * @example
 * const metrics = createClusterMetrics({ workers: () => sources, configuredWorkers: 2, restarts: () => 0, relay: () => stats });
 * const text = await metrics.scrape();
 */
export function createClusterMetrics(options: ClusterMetricsOptions): ClusterMetrics {
  const lastSeen = new Map<number, MetricJson[]>();
  let retired: MetricJson[] = [];
  let missing = 0;

  const own = new Registry();
  const p = 'holdfast_cluster';
  registerAll(own, [
    observed('gauge', `${p}_workers_configured`, 'Worker processes configured (WEB_CONCURRENCY)', () => options.configuredWorkers),
    observed('gauge', `${p}_workers_ready`, 'Worker processes serving now', () => options.workers().length),
    observed('counter', `${p}_worker_restarts_total`, 'Workers restarted after exiting unexpectedly', options.restarts),
    observed(
      'gauge',
      `${p}_scrape_missing_workers`,
      'Ready workers that did not answer this scrape in time (their series are missing from it)',
      () => missing,
    ),
    observed(
      'counter',
      `${p}_cache_invalidations_relayed_total`,
      'Cache invalidations relayed to the other workers (in-memory cache)',
      () => options.relay().sent,
    ),
    observed(
      'counter',
      `${p}_cache_invalidations_failed_total`,
      'Relayed cache invalidations that a worker did not confirm in time',
      () => options.relay().failed,
    ),
  ]);

  async function scrape(): Promise<string> {
    const workers = options.workers();
    const answers = await Promise.allSettled(workers.map((w) => w.collect()));
    const snapshots: MetricJson[][] = [];
    missing = 0;
    answers.forEach((answer, i) => {
      if (answer.status === 'rejected') {
        missing++;
        return;
      }
      const id = workers[i]!.id;
      lastSeen.set(id, answer.value);
      snapshots.push(answer.value.map(forAggregation));
    });
    const primary = ((await own.getMetricsAsJSON()) as unknown as MetricJson[]).map(forAggregation);
    return AggregatorRegistry.aggregate([...snapshots, retired, primary]).metrics();
  }

  async function retire(workerId: number): Promise<void> {
    const last = lastSeen.get(workerId);
    lastSeen.delete(workerId);
    if (last === undefined) return;
    const cumulative = (metrics: MetricJson[]) =>
      metrics.filter((m) => m.type === 'counter' || m.type === 'histogram').map((m) => ({ ...forAggregation(m), aggregator: 'sum' }));
    const merged = AggregatorRegistry.aggregate([cumulative(retired), cumulative(last)]);
    retired = (await merged.getMetricsAsJSON()) as unknown as MetricJson[];
  }

  return { scrape, retire };
}

/**
 * The cluster's aggregator for `metric`, and labels on every value:
 * prom-client's aggregators group values by their labels object and fail
 * on a value without one.
 */
function forAggregation(metric: MetricJson): MetricJson {
  const values = metric.values.map((v) => (v.labels === undefined ? { ...v, labels: {} } : v));
  return { ...metric, values, ...(WORST_WORKER.has(metric.name) ? { aggregator: 'max' } : {}) };
}
