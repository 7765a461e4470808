/**
 * A cluster worker's Prometheus registry: filled like any other, but its
 * text exposition (what `GET /metrics` serves) is the whole cluster's,
 * fetched from the primary over IPC.
 *
 * Why the worker asks the primary, and not per-worker series with a
 * `worker` label: the workers share one port, so a scrape reaches whichever
 * worker the primary hands the connection to. Per-worker series would show
 * one random worker per scrape, and counters would jump between workers'
 * values. Asking the primary gives every scrape the same, complete answer
 * from any worker, with the series names and labels a single process has,
 * so dashboards and alerts work unchanged with WEB_CONCURRENCY > 1. (A
 * separate metrics port on the primary would work too, but needs one more
 * port opened, secured and scraped.)
 *
 * A subclass rather than a new route: `/metrics` (src/http/routes/metrics.ts)
 * serves `registry.metrics()`, so it stays as it is. The registry's JSON,
 * which the primary aggregates, is the worker's own.
 *
 * @example
 * const registry = new WorkerRegistry(() => rpc.call('metrics.aggregate', {}, 5_000) as Promise<string>);
 * await startHoldfast(config, logger, { metricsRegistry: registry });
 */
import { Registry } from 'prom-client';

export class WorkerRegistry extends Registry {
  readonly #aggregate: () => Promise<string>;

  constructor(aggregate: () => Promise<string>) {
    super();
    this.#aggregate = aggregate;
  }

  /** The cluster's metrics, aggregated by the primary; rejects if it does not answer. */
  override metrics(): Promise<string> {
    return this.#aggregate();
  }

  /** This worker's metrics only, as a single process would serve them. */
  localMetrics(): Promise<string> {
    return super.metrics();
  }
}
