/**
 * Zipf-distributed ids, for skewed workloads: id k is drawn with probability
 * proportional to 1/k^s. With s ≈ 1 over 100,000 products the 1,000 hottest
 * ids get about 60% of the requests, the shape where a cache should pay
 * (issue 15: "cache on ≥ 3× cache off on skewed"). Uniform ids over the same
 * range are where it cannot.
 *
 * Inverse-CDF sampling over a precomputed table (8 bytes an id), so a draw is
 * one binary search and sampling is exact for any s.
 */

/**
 * A sampler of ids 1..n, id k with probability ∝ 1/k^s.
 *
 * @example
 * const next = createZipfSampler(100_000, 1);
 * next(); // 1 far more often than 100000
 */
export function createZipfSampler(n: number, s: number, random: () => number = Math.random): () => number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`zipf range must be a positive integer, got ${n}`);
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) cdf[k - 1] = total += 1 / k ** s;
  for (let i = 0; i < n; i++) cdf[i]! /= total;
  return () => {
    const r = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo + 1;
  };
}
