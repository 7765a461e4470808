import { describe, expect, it } from 'vitest';
import { Histogram } from '../../src/stats/histogram.ts';

describe('Histogram', () => {
  it('counts into buckets and reads percentiles as bucket upper bounds, capped at the largest value', () => {
    const h = new Histogram([1, 2, 5]);
    for (const v of [0.5, 1.5, 3, 4]) h.record(v);
    expect(h.snapshot()).toEqual({ bounds: [1, 2, 5], counts: [1, 1, 2, 0], count: 4, sum: 9, max: 4 });
    expect(h.mean).toBe(2.25);
    expect(h.percentileUpperBound(0.25)).toBe(1);
    expect(h.percentileUpperBound(0.5)).toBe(2);
    expect(h.percentileUpperBound(0.75)).toBe(4);
    expect(h.percentileUpperBound(1)).toBe(4);
  });

  it('puts values past the last bound in +Inf, read as the largest value; an empty one reads 0', () => {
    const h = new Histogram([1, 2, 5]);
    expect(h.percentileUpperBound(0.99)).toBe(0);
    h.record(2); // on a bound: that bucket
    h.record(12);
    expect(h.snapshot().counts).toEqual([0, 1, 0, 1]);
    expect(h.percentileUpperBound(0.5)).toBe(2);
    expect(h.percentileUpperBound(0.99)).toBe(12);
  });
});
