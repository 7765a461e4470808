/**
 * Leak suspicion: a steady climb of the heap floor is suspected; a flat or
 * noisy heap, a short climb, or a climb that stopped is not.
 */
import { describe, expect, it } from 'vitest';
import { createLeakDetector } from '../../../src/guards/pressure/leak.ts';
import { createPressureMonitor } from '../../../src/guards/pressure/monitor.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { defaultSettings, linesWith, manualClock, scriptedSampler } from './fixtures.ts';

/** Deterministic noise in [-1, 1): a linear congruential generator. */
function noise(seed = 7) {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
    return (s / 2_147_483_648) * 2 - 1;
  };
}

/** Ticks a monitor every `stepMs` for `minutes`, feeding `heapAt(minute, i)`. */
function run(minutes: number, heapAt: (minute: number, i: number) => { heapUsedMb: number; heapAfterGcMb?: number }, stepMs = 10_000) {
  const logs = captureLogs();
  const clock = manualClock();
  const sampler = scriptedSampler();
  const monitor = createPressureMonitor(defaultSettings(), { logger: logs.logger, sample: sampler.sample, now: clock.now });
  const steps = (minutes * 60_000) / stepMs;
  for (let i = 0; i <= steps; i++) {
    const { heapUsedMb, heapAfterGcMb } = heapAt((i * stepMs) / 60_000, i);
    sampler.set({ heapUsedMb, heapAfterGcMb });
    monitor.tick();
    clock.advance(stepMs);
  }
  return { monitor, logs, clock, sampler };
}

describe('leak suspicion', () => {
  it('is suspected for a steady climb of the heap after GC, with its slope', () => {
    const jitter = noise();
    const { monitor, logs } = run(12, (m) => ({ heapUsedMb: 400 + 2 * m + 40, heapAfterGcMb: 400 + 2 * m + jitter() }));
    const snap = monitor.snapshot();
    expect(snap.leakSuspected).toBe(true);
    expect(snap.leakSlopeMbPerMin).toBeGreaterThan(1.6);
    expect(snap.leakSlopeMbPerMin).toBeLessThan(2.4);
    const warned = linesWith(logs.lines, 'heap leak suspected: the heap floor keeps climbing');
    expect(warned).toHaveLength(1); // once, not per sample
    expect(warned[0]!.leak).toMatchObject({ points: expect.any(Number), windowMs: 600_000 });
    expect(snap.state).toBe('ok'); // a suspicion never sheds load
  });

  it('reads the floor of a GC sawtooth when no GC readings are available', () => {
    // Heap used climbs 30 MB between collections, one per 30 s bucket; the floor rises 3 MB/min.
    const { monitor } = run(12, (m, i) => ({ heapUsedMb: 300 + 3 * m + (i % 3) * 15 }));
    expect(monitor.snapshot().leakSuspected).toBe(true);
    expect(monitor.snapshot().leakSlopeMbPerMin).toBeGreaterThan(2);
  });

  it('is not suspected for a flat, noisy heap, however large', () => {
    const jitter = noise(42);
    const { monitor, logs } = run(20, () => ({ heapUsedMb: 1500 + 60 * jitter(), heapAfterGcMb: 1400 + 25 * jitter() }));
    const snap = monitor.snapshot();
    expect(snap.leakSuspected).toBe(false);
    expect(Math.abs(snap.leakSlopeMbPerMin!)).toBeLessThan(1);
    expect(linesWith(logs.lines, 'heap leak suspected: the heap floor keeps climbing')).toHaveLength(0);
  });

  it('is not suspected for a slow climb below the slope threshold', () => {
    const { monitor } = run(12, (m) => ({ heapUsedMb: 500 + 0.3 * m }));
    expect(monitor.snapshot().leakSuspected).toBe(false);
    expect(monitor.snapshot().leakSlopeMbPerMin).toBeCloseTo(0.3, 1);
  });

  it('gives no verdict before the window has enough points', () => {
    const { monitor } = run(3, (m) => ({ heapUsedMb: 400 + 50 * m }));
    const snap = monitor.snapshot();
    expect(snap.leakSuspected).toBe(false);
    expect(snap.leakSlopeMbPerMin).toBeUndefined();
  });

  it('clears the suspicion once the climb has stopped for a window, and logs that once', () => {
    const { monitor, logs } = run(30, (m) => ({ heapUsedMb: 400 + 3 * Math.min(m, 10) }));
    expect(monitor.snapshot().leakSuspected).toBe(false);
    expect(linesWith(logs.lines, 'heap leak suspected: the heap floor keeps climbing')).toHaveLength(1);
    expect(linesWith(logs.lines, 'heap leak suspicion cleared')).toHaveLength(1);
  });

  it('takes its window and thresholds as options', () => {
    const leak = createLeakDetector({ windowMs: 60_000, bucketMs: 5_000, minPoints: 5, minSlopeMbPerMin: 10, minR2: 0.9 });
    for (let s = 0; s <= 60; s++) leak.add(s * 1000, 100 + (20 * s) / 60); // 20 MB/min
    expect(leak.verdict()).toMatchObject({ suspected: true, slopeMbPerMin: expect.closeTo(20, 0) });
    const strict = createLeakDetector({ windowMs: 60_000, bucketMs: 5_000, minPoints: 5, minSlopeMbPerMin: 30 });
    for (let s = 0; s <= 60; s++) strict.add(s * 1000, 100 + (20 * s) / 60);
    expect(strict.verdict().suspected).toBe(false);
  });
});
