import { describe, expect, it } from 'vitest';
import { jitteredLifetime } from '../../../src/db/pool/opener.ts';

describe('jitteredLifetime', () => {
  it('takes at most the jitter fraction off the lifetime, at random', () => {
    expect(jitteredLifetime(400, 0.1, () => 0)).toBe(400);
    expect(jitteredLifetime(400, 0.1, () => 0.999)).toBeGreaterThan(360);
    expect(jitteredLifetime(400, 0.1, () => 0.5)).toBe(380);
    const lifetimes = Array.from({ length: 20 }, () => jitteredLifetime(400, 0.1));
    for (const l of lifetimes) expect(l).toBeGreaterThan(360 - 1e-9);
    expect(new Set(lifetimes).size).toBeGreaterThan(1);
  });
});
