/**
 * A fixed-bucket latency histogram with O(1) record and bounded memory.
 *
 * Written here rather than taken from prom-client because the pool and the
 * profiler record on the hot path and also need percentiles in-process
 * (health, /admin/queries); prom-client's histogram has no percentile read
 * and the exporter copies these buckets into it at scrape time instead.
 * Percentiles are read as bucket upper bounds (see quantiles.ts).
 *
 * @example
 * const h = new Histogram();
 * h.record(3.2);
 * h.percentileUpperBound(0.99); // upper bound of the bucket holding the 99th percentile
 */
import { upperBoundQuantile } from './quantiles.ts';

/** Bucket upper bounds in milliseconds, roughly ×2 apart from 50 µs to 60 s. */
export const DEFAULT_BUCKETS_MS: readonly number[] = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
];

export interface HistogramSnapshot {
  /** Bucket upper bounds (ms); the last, implicit bucket is +Inf. */
  bounds: readonly number[];
  /** Non-cumulative counts, one per bound plus one for +Inf. */
  counts: number[];
  count: number;
  sum: number;
  max: number;
}

export class Histogram {
  readonly bounds: readonly number[];
  #counts: Float64Array;
  #count = 0;
  #sum = 0;
  #max = 0;

  constructor(bounds: readonly number[] = DEFAULT_BUCKETS_MS) {
    this.bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  record(valueMs: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && valueMs > bounds[i]!) i++;
    this.#counts[i]!++;
    this.#count++;
    this.#sum += valueMs;
    if (valueMs > this.#max) this.#max = valueMs;
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  get max(): number {
    return this.#max;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /**
   * The upper bound of the bucket that holds quantile `q` (0..1), capped at
   * the largest value seen; 0 when empty. Never below the true percentile.
   */
  percentileUpperBound(q: number): number {
    return upperBoundQuantile(this.bounds, this.#counts, q, this.#max);
  }

  snapshot(): HistogramSnapshot {
    return { bounds: this.bounds, counts: Array.from(this.#counts), count: this.#count, sum: this.#sum, max: this.#max };
  }
}
