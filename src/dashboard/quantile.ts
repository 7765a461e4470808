/**
 * Percentiles of one interval, from two readings of a cumulative histogram.
 *
 * The pool and Prometheus histograms only ever count up, so "p99 over the
 * last second" is the p99 of the difference between two readings. Within a
 * bucket the value is interpolated linearly, as Prometheus'
 * `histogram_quantile` does; a rank in the +Inf bucket reads as the largest
 * finite bound. Pure functions, so the arithmetic is tested without a server.
 */

/**
 * The `q` quantile of per-bucket counts (not cumulative) for the given upper
 * bounds; `counts` may have one more entry than `bounds` (+Inf). Undefined
 * when the interval saw nothing.
 *
 * @example
 * quantileOfBuckets([1, 2, 5], [0, 10, 0, 0], 0.5); // 1.5
 */
export function quantileOfBuckets(bounds: readonly number[], counts: readonly number[], q: number): number | undefined {
  let total = 0;
  for (const c of counts) total += c;
  if (total <= 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && seen + c >= rank) {
      const upper = bounds[i];
      if (upper === undefined) return bounds[bounds.length - 1] ?? 0;
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bounds[bounds.length - 1] ?? 0;
}

/**
 * `now - before`, bucket by bucket, never negative (a histogram that was
 * replaced or reset reads as an empty interval rather than garbage).
 *
 * @example
 * diffCounts([3, 5, 1], [1, 5, 0]); // [2, 0, 1]
 */
export function diffCounts(now: readonly number[], before: readonly number[] | undefined): number[] {
  return now.map((n, i) => Math.max(0, n - (before?.[i] ?? 0)));
}
