/**
 * Percentiles of bucketed latencies: one rule for which bucket holds the
 * `q` quantile, and two readings of that bucket, named for what they mean.
 *
 * The bucket is the nearest rank's: the one holding the ⌈q·n⌉-th smallest
 * observation (at least the first). Within it the samples are gone, so:
 *
 * - `upperBoundQuantile`: the bucket's upper bound, capped at the largest
 *   value seen. A bound the true percentile never exceeds, never an
 *   under-report; the profiler's p95 and other in-process reads use it.
 * - `interpolatedQuantile`: linear within the bucket, as Prometheus'
 *   `histogram_quantile` does, a rank in +Inf reading as the largest finite
 *   bound. An estimate, for the dashboard, so it matches what Grafana shows.
 *
 * Not hdr-histogram-js: the dashboard reads prom-client's fixed buckets,
 * which an HDR histogram cannot take in, and these few lines would stay.
 */

/** Where the `q` quantile falls: the bucket, the observations below it, and the rank inside. */
interface RankedBucket {
  index: number;
  below: number;
  rank: number;
}

function bucketOf(counts: ArrayLike<number>, q: number): RankedBucket | undefined {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] ?? 0;
  if (total <= 0) return undefined;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && below + c >= rank) return { index: i, below, rank: Math.min(total, Math.max(0, q * total)) };
    below += c;
  }
  return undefined;
}

/**
 * The upper bound of the bucket holding the `q` quantile (0..1), capped at
 * `max`; 0 when nothing was counted. `counts` are per bucket (not
 * cumulative), one per bound plus one for +Inf, whose bound is `max`.
 *
 * @example
 * upperBoundQuantile([1, 2, 5], [1, 1, 2, 0], 0.5, 4); // 2: the 2nd of 4 samples is in (1, 2]
 * upperBoundQuantile([1, 2, 5], [1, 1, 2, 0], 0.99, 4); // 4: in (2, 5], but nothing above 4 was seen
 */
export function upperBoundQuantile(bounds: readonly number[], counts: ArrayLike<number>, q: number, max: number): number {
  const at = bucketOf(counts, q);
  if (at === undefined) return 0;
  return Math.min(bounds[at.index] ?? max, max);
}

/**
 * The `q` quantile interpolated linearly within its bucket; `counts` per
 * bucket (not cumulative), and may have one more entry than `bounds`
 * (+Inf). Undefined when nothing was counted.
 *
 * @example
 * interpolatedQuantile([1, 2, 5], [0, 10, 0, 0], 0.5); // 1.5
 */
export function interpolatedQuantile(bounds: readonly number[], counts: ArrayLike<number>, q: number): number | undefined {
  const at = bucketOf(counts, q);
  if (at === undefined) return undefined;
  const upper = bounds[at.index];
  if (upper === undefined) return bounds[bounds.length - 1] ?? 0;
  const lower = at.index === 0 ? 0 : (bounds[at.index - 1] ?? 0);
  return lower + ((upper - lower) * (at.rank - at.below)) / (counts[at.index] ?? 1);
}

/**
 * `now - before`, bucket by bucket, never negative (a histogram that was
 * replaced or reset reads as an empty interval rather than garbage), so an
 * interval's quantile can be read from two readings of cumulative counts.
 *
 * @example
 * diffCounts([3, 5, 1], [1, 5, 0]); // [2, 0, 1]
 */
export function diffCounts(now: readonly number[], before: readonly number[] | undefined): number[] {
  return now.map((n, i) => Math.max(0, n - (before?.[i] ?? 0)));
}
