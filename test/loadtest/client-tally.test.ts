import { describe, expect, it } from 'vitest';
import { ClientTally, hasRetryAfter } from '../../scripts/loadtest/client-tally.ts';
import { LatencyHistogram } from '../../scripts/loadtest/latency.ts';

describe('LatencyHistogram', () => {
  it('gives percentiles within about 1%', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 10); // 0.1 … 100 ms
    expect(h.percentile(0.5)).toBeGreaterThan(49.5);
    expect(h.percentile(0.5)).toBeLessThan(50.6);
    expect(h.percentile(0.99)).toBeCloseTo(99, -0.5);
    expect(h.percentile(1)).toBe(100);
    expect(new LatencyHistogram().percentile(0.99)).toBe(0);
  });
});

describe('ClientTally', () => {
  it('splits statuses, counts socket errors apart from timeouts, and rates over requests', () => {
    const tally = new ClientTally();
    for (let i = 0; i < 90; i++) tally.response(200, 5);
    for (let i = 0; i < 4; i++) tally.response(429, 1);
    for (let i = 0; i < 3; i++) tally.response(503, 1);
    tally.response(404, 2);
    tally.unavailable(true);
    tally.unavailable(false);
    const s = tally.toSample({ connections: 10, durationS: 2, timeouts: 1, errors: 3 });
    expect(s).toMatchObject({
      requests: 101,
      responses: 98,
      status2xx: 90,
      status429: 4,
      status503: 3,
      statusOther: 1,
      timeouts: 1,
      socketErrors: 2,
      reqPerSec: 49,
      retryAfterMissing: 1,
      statusCodes: { '200': 90, '404': 1, '429': 4, '503': 3 },
    });
    expect(s.successRate).toBeCloseTo(90 / 101);
    expect(s.successLatency.p99).toBe(5);
    expect(s.latency.p50).toBe(5);
  });

  it('finds Retry-After in any capitalisation', () => {
    expect(hasRetryAfter({ 'retry-after': '1' })).toBe(true);
    expect(hasRetryAfter({ 'Retry-After': '1' })).toBe(true);
    expect(hasRetryAfter({ 'content-type': 'x' })).toBe(false);
    expect(hasRetryAfter(undefined)).toBe(false);
  });
});
