/**
 * A latency histogram with ~1% resolution, for the client side of a load test.
 *
 * autocannon's own summary has no p95 and records only 2xx latencies; the
 * report needs p50/p95/p99 of all answers and of successes separately, so the
 * run records every response here as well. Log-spaced buckets keep memory
 * fixed (about 1,700 counters) however many responses arrive; the 2× buckets
 * of src/stats/histogram.ts are too coarse to compare two contenders.
 */

const MIN_MS = 0.01;
const GROWTH = 1.01;
const MAX_MS = 120_000;
const BUCKETS = Math.ceil(Math.log(MAX_MS / MIN_MS) / Math.log(GROWTH)) + 1;

/**
 * @example
 * const h = new LatencyHistogram();
 * h.record(3.2);
 * h.percentile(0.99); // ≈ 3.2
 */
export class LatencyHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  record(ms: number): void {
    const v = Math.max(ms, MIN_MS);
    const i = Math.min(BUCKETS - 1, Math.ceil(Math.log(v / MIN_MS) / Math.log(GROWTH)));
    this.#counts[i]!++;
    this.#count++;
    this.#sum += ms;
    if (ms > this.#max) this.#max = ms;
  }

  get count(): number {
    return this.#count;
  }

  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** Upper edge of the bucket holding quantile `q` (0..1), never above the largest value; 0 when empty. */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(MIN_MS * GROWTH ** i, this.#max);
    }
    return this.#max;
  }
}
