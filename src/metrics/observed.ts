/**
 * Prometheus metrics whose values are read from the owning object at scrape
 * time, instead of being pushed into prom-client on the hot path.
 *
 * The pool, the limiter and the monitor already keep their own counters and
 * histograms (exposed as getters, as pg-pool does); copying every increment
 * into prom-client as well would double the work per request for nothing.
 * prom-client accepts any object with `name`, `help`, `type` and `get()` in
 * its registry, which is all this module builds.
 *
 * @example
 * registry.registerMetric(observed('gauge', 'holdfast_db_pool_connections_idle', 'Idle connections', () => pool.idle));
 */
import type { Registry } from 'prom-client';
import type { HistogramSnapshot } from '../stats/histogram.ts';

type Labels = Record<string, string | number>;
type Sample = { value: number; labels?: Labels; metricName?: string };
type MetricType = 'gauge' | 'counter' | 'histogram';

export interface ObservedMetric {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: Sample[] }>;
  reset(): void;
}

/** A gauge or counter read from `read()`: a number, or labelled samples. */
export function observed(type: 'gauge' | 'counter', name: string, help: string, read: () => number | Sample[]): ObservedMetric {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => {
      const v = read();
      return { name, help, type, aggregator: 'sum', values: typeof v === 'number' ? [{ value: v }] : v };
    },
    reset: () => {},
  };
}

/**
 * A Prometheus histogram built from one of our millisecond histograms,
 * published in seconds as Prometheus expects.
 */
export function observedHistogram(name: string, help: string, read: () => HistogramSnapshot, labels: Labels = {}): ObservedMetric {
  return {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const snap = read();
      const values: Sample[] = [];
      let cumulative = 0;
      snap.bounds.forEach((bound, i) => {
        cumulative += snap.counts[i] ?? 0;
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound / 1000 }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: snap.count });
      values.push({ metricName: `${name}_sum`, labels, value: snap.sum / 1000 });
      values.push({ metricName: `${name}_count`, labels, value: snap.count });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset: () => {},
  };
}

/** Registers each metric; prom-client's typings only know its own classes. */
export function registerAll(registry: Registry, metrics: ObservedMetric[]): void {
  for (const m of metrics) registry.registerMetric(m as unknown as Parameters<Registry['registerMetric']>[0]);
}
