import { describe, expect, it } from 'vitest';
import { KEPT, WINDOW_MS, offerSlowTrace, slowestFirst, type SlowTrace } from '../../src/profiler/slow-traces.ts';

describe('slowest recent traces of a fingerprint', () => {
  it('keeps the slowest few of the window, slowest first', () => {
    const kept: SlowTrace[] = [];
    for (let i = 0; i < 20; i++) offerSlowTrace(kept, { traceId: `t${i}`, durationMs: (i * 7) % 20, at: 1000 + i });
    expect(kept).toHaveLength(KEPT);
    expect(slowestFirst(kept, 2000).map((t) => t.durationMs)).toEqual([19, 18, 17, 16, 15]);
  });

  it('forgets calls older than the window, however slow', () => {
    const kept: SlowTrace[] = [];
    offerSlowTrace(kept, { traceId: 'old', durationMs: 5000, at: 0 });
    offerSlowTrace(kept, { traceId: 'new', durationMs: 1, at: WINDOW_MS + 1 });
    expect(kept.map((t) => t.traceId)).toEqual(['new']);
    expect(slowestFirst([{ traceId: 'x', durationMs: 1, at: 0 }], WINDOW_MS + 1)).toEqual([]);
  });
});
