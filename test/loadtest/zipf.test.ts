/** Zipf ids (scripts/loadtest/zipf.ts) and their use by the path picker. */
import { describe, expect, it } from 'vitest';
import { createPathPicker, parseMix } from '../../scripts/loadtest/mix.ts';
import { createZipfSampler } from '../../scripts/loadtest/zipf.ts';

/** A seeded generator, so the counts below are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('createZipfSampler', () => {
  it('draws id k with probability ∝ 1/k (s = 1), within 1..n', () => {
    const n = 100_000;
    const next = createZipfSampler(n, 1, seeded(7));
    const draws = 200_000;
    let first = 0;
    let top1000 = 0;
    for (let i = 0; i < draws; i++) {
      const id = next();
      expect(id >= 1 && id <= n).toBe(true);
      if (id === 1) first++;
      if (id <= 1000) top1000++;
    }
    const harmonic = 12.0901; // H(100 000)
    expect(first / draws).toBeCloseTo(1 / harmonic, 2);
    expect(top1000 / draws).toBeCloseTo(7.4855 / harmonic, 1); // H(1000) / H(100 000) ≈ 0.62
  });

  it('the edges of the table: r = 0 gives id 1, r just under 1 the last id', () => {
    expect(createZipfSampler(10, 1, () => 0)()).toBe(1);
    expect(createZipfSampler(10, 1, () => 0.999_999_999)()).toBe(10);
  });
});

describe('createPathPicker with zipf ids', () => {
  it('expands the mix with skewed ids', () => {
    const next = createPathPicker(parseMix('product=1,orders=1'), { product: 1000, customer: 100 }, seeded(3), 'zipf');
    const paths = Array.from({ length: 2000 }, next);
    expect(paths.every((p) => /^\/api\/(products\/\d+|customers\/\d+\/orders\?limit=20)$/.test(p))).toBe(true);
    expect(paths.filter((p) => p === '/api/products/1').length).toBeGreaterThan(60); // ~1000 × 1/H(1000) ≈ 134
    expect(paths.some((p) => p.startsWith('/api/customers/'))).toBe(true);
  });
});
