import { describe, expect, it } from 'vitest';
import { createVegasLimit } from '../../../src/db/pool/adaptive-limit.ts';

/** Feeds `windows` full windows of one latency at the current limit's concurrency. */
function feed(limit: ReturnType<typeof createVegasLimit>, rttMs: number, windows: number, inflight?: (limit: number) => number) {
  for (let w = 0; w < windows; w++) {
    for (let i = 0; i < 50; i++) limit.onSample(rttMs, inflight ? inflight(limit.limit) : limit.limit);
  }
}

describe('Vegas adaptive limit', () => {
  it('grows while latency stays flat and the pool uses its limit', () => {
    const limit = createVegasLimit({ initial: 4, min: 2, max: 40 });
    feed(limit, 1, 1);
    const start = limit.limit;
    feed(limit, 1, 5);
    expect(limit.limit).toBeGreaterThan(start);
    feed(limit, 1, 200);
    expect(limit.limit).toBe(40); // flat latency all the way: it reaches max
  });

  it('shrinks when latency rises well above the no-load latency', () => {
    const limit = createVegasLimit({ initial: 30, min: 2, max: 40 });
    feed(limit, 1, 5);
    const before = limit.limit;
    feed(limit, 8, 30); // 8× the best latency: most of the limit is queueing
    expect(limit.limit).toBeLessThan(before);
    expect(limit.noLoadRttMs).toBe(1);
  });

  it('holds between alpha and beta', () => {
    const limit = createVegasLimit({ initial: 20, min: 2, max: 40, smoothing: 1 });
    feed(limit, 1, 1);
    const held = limit.limit;
    // queue = 20 × (1 − 1/1.25) = 4, between alpha (3.9) and beta (7.8).
    feed(limit, 1.25, 10);
    expect(limit.limit).toBe(held);
  });

  it('never leaves its bounds', () => {
    const low = createVegasLimit({ initial: 5, min: 3, max: 10 });
    feed(low, 1, 2);
    feed(low, 100, 200);
    expect(low.limit).toBe(3);
    const high = createVegasLimit({ initial: 5, min: 3, max: 10 });
    feed(high, 1, 200);
    expect(high.limit).toBe(10);
    expect(createVegasLimit({ initial: 100, min: 3, max: 10 }).limit).toBe(10);
  });

  it('does not grow when the service is not using half of its limit', () => {
    const limit = createVegasLimit({ initial: 10, min: 2, max: 40 });
    feed(limit, 1, 50, () => 2);
    expect(limit.limit).toBe(10);
  });

  it('re-learns the no-load latency after a lasting shift', () => {
    let clock = 0;
    const limit = createVegasLimit({ initial: 10, min: 2, max: 40, probeIntervalMs: 60_000, now: () => clock });
    feed(limit, 1, 5);
    feed(limit, 3, 40); // the data grew: 3 ms is the new normal
    expect(limit.noLoadRttMs).toBe(1); // not yet: probing is rare, so overload can't pass for normal
    clock = 60_000;
    feed(limit, 3, 1);
    expect(limit.noLoadRttMs).toBe(3);
  });
});
