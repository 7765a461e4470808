/**
 * The two readings of a bucketed percentile, pinned on one small known
 * input: four samples 0.5, 1.5, 3 and 4 in buckets ≤1, ≤2, ≤5 and +Inf.
 */
import { describe, expect, it } from 'vitest';
import { diffCounts, interpolatedQuantile, upperBoundQuantile } from '../../src/stats/quantiles.ts';

const BOUNDS = [1, 2, 5];
const COUNTS = [1, 1, 2, 0];
const MAX = 4;

describe('upperBoundQuantile: the upper bound of the nearest rank’s bucket, capped at the largest value', () => {
  it('reads the bucket of the ⌈q·n⌉-th sample', () => {
    expect(upperBoundQuantile(BOUNDS, COUNTS, 0.25, MAX)).toBe(1); // 1st sample, 0.5, in ≤1
    expect(upperBoundQuantile(BOUNDS, COUNTS, 0.5, MAX)).toBe(2); // 2nd, 1.5, in ≤2
    expect(upperBoundQuantile(BOUNDS, COUNTS, 0.51, MAX)).toBe(4); // 3rd, 3, in ≤5, capped at 4
    expect(upperBoundQuantile(BOUNDS, COUNTS, 0.99, MAX)).toBe(4);
    expect(upperBoundQuantile(BOUNDS, COUNTS, 0, MAX)).toBe(1); // at least the first sample
  });

  it('reads +Inf as the largest value seen, and nothing as 0', () => {
    expect(upperBoundQuantile(BOUNDS, [0, 0, 0, 3], 0.99, 9)).toBe(9);
    expect(upperBoundQuantile(BOUNDS, [0, 0, 0, 0], 0.99, 0)).toBe(0);
  });
});

describe('interpolatedQuantile: linear within the same bucket, as histogram_quantile', () => {
  it('interpolates the rank q·n between the bucket’s bounds', () => {
    expect(interpolatedQuantile(BOUNDS, COUNTS, 0.25)).toBe(1); // rank 1 of 1 in (0, 1]
    expect(interpolatedQuantile(BOUNDS, COUNTS, 0.5)).toBe(2); // rank 2, 1 of 1 in (1, 2]
    expect(interpolatedQuantile(BOUNDS, COUNTS, 0.75)).toBe(3.5); // rank 3, 1 of 2 in (2, 5]
    expect(interpolatedQuantile(BOUNDS, COUNTS, 0.99)).toBeCloseTo(4.94); // rank 3.96, 1.96 of 2 in (2, 5]
    expect(interpolatedQuantile(BOUNDS, COUNTS, 0)).toBe(0); // the lower edge of the first non-empty bucket
  });

  it('reads +Inf as the largest finite bound, and nothing as undefined', () => {
    expect(interpolatedQuantile(BOUNDS, [0, 0, 0, 3], 0.99)).toBe(5);
    expect(interpolatedQuantile(BOUNDS, [0, 0, 0, 0], 0.99)).toBeUndefined();
  });
});

describe('both readings', () => {
  it('pick the same bucket, so the bound is never below the estimate', () => {
    const counts = [3, 0, 7, 1, 0, 4, 2];
    const bounds = [1, 2, 5, 10, 25, 50];
    for (let q = 0; q <= 1.0001; q += 0.01) {
      const bound = upperBoundQuantile(bounds, counts, q, 80);
      const estimate = interpolatedQuantile(bounds, counts, q)!;
      const i = bounds.indexOf(Math.min(bound, 50));
      const lower = i <= 0 ? 0 : bounds[i - 1]!;
      expect(estimate, `q=${q}`).toBeGreaterThanOrEqual(lower);
      expect(estimate, `q=${q}`).toBeLessThanOrEqual(bound === 80 ? 50 : bound);
    }
  });
});

describe('diffCounts', () => {
  it('diffs cumulative readings bucket by bucket, never negative', () => {
    expect(diffCounts([3, 5, 1], [1, 5, 0])).toEqual([2, 0, 1]);
    expect(diffCounts([1, 1], [4, 0])).toEqual([0, 1]);
    expect(diffCounts([1, 2], undefined)).toEqual([1, 2]);
  });
});
