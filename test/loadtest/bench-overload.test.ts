/** The overload cell's targets (bench/overload.ts), on recorded-shape results. */
import { describe, expect, it } from 'vitest';
import { overloadMarkdown, overloadTargets, type OverloadResult } from '../../bench/overload.ts';
import type { OpenModelResult } from '../../scripts/loadtest/open-model.ts';

function open(over: Partial<OpenModelResult>): OpenModelResult {
  const p = { p50: 5, p99: 20, p999: 40, max: 60 };
  return {
    rate: 10_000,
    durationS: 30,
    intended: 300_000,
    sent: 300_000,
    late: 0,
    notSent: 0,
    maxSendDelayMs: 2,
    responses: 300_000,
    statusCodes: { '200': 150_000, '503': 150_000 },
    status2xx: 150_000,
    status503WithRetryAfter: 150_000,
    status503WithoutRetryAfter: 0,
    timeouts: 0,
    socketErrors: 0,
    successPerSec: 4_800,
    success: p,
    all: p,
    service: p,
    ...over,
  };
}

const base: OverloadResult = {
  server: 'holdfast',
  capacity: 5_000,
  half: open({ rate: 2_500, success: { p50: 3, p99: 10, p999: 20, max: 30 } }),
  overload: open({}),
  rssPeakMb: 180,
};

describe('overloadTargets', () => {
  it('meets all four when successes hold, the tail stays within 5×, refusals are 503 + Retry-After and RSS is low', () => {
    expect(overloadTargets(base).map((t) => t.pass)).toEqual([true, true, true, true]);
  });

  it('misses each one on its own failure', () => {
    const bad: OverloadResult = {
      ...base,
      overload: open({
        successPerSec: 4_000,
        success: { p50: 5, p99: 60, p999: 90, max: 100 },
        statusCodes: { '200': 150_000, '503': 149_999, '500': 1 },
      }),
      rssPeakMb: 260,
    };
    expect(overloadTargets(bad).map((t) => t.pass)).toEqual([false, false, false, false]);
    const noRetryAfter = { ...base, overload: open({ status503WithoutRetryAfter: 1 }) };
    expect(overloadTargets(noRetryAfter)[2]?.pass).toBe(false);
    const timeouts = { ...base, overload: open({ timeouts: 3 }) };
    expect(overloadTargets(timeouts)[2]?.pass).toBe(false);
  });

  it('says "not measured" without a run, and the report section renders', () => {
    expect(overloadTargets(undefined)[0]?.pass).toBeNull();
    expect(overloadMarkdown(base)).toContain('2× capacity');
  });
});
