/**
 * Batched reads' Prometheus metrics, read from the loader's counters at
 * scrape time. Mean batch size:
 * `rate(holdfast_db_batched_loads_total[5m]) / rate(holdfast_db_batches_total[5m])`.
 */
import { observed, type ObservedMetric } from '../../metrics/observed.ts';
import type { BatchLoader } from './loader.ts';

/**
 * @example
 * registerAll(registry, batchMetrics('product', loader));
 */
export function batchMetrics(name: string, loader: Pick<BatchLoader<unknown, unknown>, 'loads' | 'batches'>): ObservedMetric[] {
  const labels = { loader: name };
  return [
    observed('counter', 'holdfast_db_batched_loads_total', 'Reads asked of a batch loader', () => [{ value: loader.loads, labels }]),
    observed('counter', 'holdfast_db_batches_total', 'Statements a batch loader sent for them', () => [{ value: loader.batches, labels }]),
  ];
}
