/**
 * The one Prometheus registry of the process, with every source wired in.
 *
 * Each source is optional so that tests and tools can build a registry for
 * just the parts they start.
 *
 * @example
 * const registry = createMetricsRegistry({ pool });
 * await registry.metrics(); // Prometheus text format
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { PoolStats } from '../db/pool/counters.ts';
import { registerAll, type ObservedMetric } from './observed.ts';
import { poolMetrics } from './pool-metrics.ts';

export interface MetricSources {
  /** Fill this registry instead of a new one (a cluster worker passes its own). */
  registry?: Registry | undefined;
  pool: { readonly counters: PoolStats };
  /** Further metrics from the guards, profiler and cache. */
  extra?: ObservedMetric[];
}

export function createMetricsRegistry(sources: MetricSources): Registry {
  const registry = sources.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'holdfast_' });
  registerAll(registry, [...poolMetrics(sources.pool.counters), ...(sources.extra ?? [])]);
  return registry;
}
