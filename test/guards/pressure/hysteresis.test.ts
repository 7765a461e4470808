/**
 * The state machine: enter at once, leave only after 3 calm samples below
 * 90% of the threshold, never flap on a value hovering at a threshold.
 */
import { describe, expect, it } from 'vitest';
import { isAppError } from '../../../src/errors/app-error.ts';
import { createPressureMonitor, type PressureLevel } from '../../../src/guards/pressure/monitor.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { defaultSettings, scriptedSampler } from './fixtures.ts';

function monitorWith() {
  const logs = captureLogs();
  const sampler = scriptedSampler();
  const monitor = createPressureMonitor(defaultSettings(), { logger: logs.logger, sample: sampler.sample });
  const feed = (rssMb: number): PressureLevel => {
    sampler.set({ rssMb });
    return monitor.tick().state;
  };
  return { logs, sampler, monitor, feed };
}

const transitions = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('pressure ') && l.msg !== 'pressure thresholds changed');

describe('pressure states', () => {
  it('enters critical on the first sample at the threshold', () => {
    const { feed, monitor } = monitorWith();
    expect(feed(1023)).toBe('warning');
    expect(feed(1024)).toBe('critical');
    const snap = monitor.snapshot();
    expect(snap.reasons).toEqual([expect.stringMatching(/^rss 1024\.0 MB ≥ critical 1024\.0 MB$/)]);
    expect(snap.rssMb).toBe(1024);
  });

  it('does not flap on a value oscillating around the critical threshold', () => {
    const { feed, logs } = monitorWith();
    const seen = [1030, 1000, 1040, 990, 1100, 950, 1025, 930, 1024, 1010].map(feed);
    expect(seen.every((s) => s === 'critical')).toBe(true);
    expect(transitions(logs.lines)).toHaveLength(1);
  });

  it('leaves critical only after 3 consecutive samples below 90% of the threshold', () => {
    const { feed, monitor } = monitorWith();
    feed(1100);
    // 900 < 0.9 × 1024 = 921.6: calm, but one calm sample is not enough.
    expect([feed(900), feed(900)]).toEqual(['critical', 'critical']);
    expect(monitor.snapshot().reasons[0]).toMatch(/was ≥ critical 1024\.0 MB; held until below 921\.6 MB for 3 samples/);
    // A sample in the 90–100% band restarts the count.
    expect(feed(1000)).toBe('critical');
    expect([feed(900), feed(900)]).toEqual(['critical', 'critical']);
    // 900 is still above the warning threshold (512): down one level, not to ok.
    expect(feed(900)).toBe('warning');
  });

  it('steps down to ok with the same rule against the warning threshold', () => {
    const { feed, logs } = monitorWith();
    feed(600);
    expect([feed(470), feed(470)]).toEqual(['warning', 'warning']); // 0.9 × 512 = 460.8
    expect([feed(400), feed(400), feed(400)]).toEqual(['warning', 'warning', 'ok']);
    expect(transitions(logs.lines).map((l) => l.msg)).toEqual(['pressure warning', 'pressure back to ok']);
  });

  it('goes straight from critical to ok when every level has been calm long enough', () => {
    const { feed } = monitorWith();
    feed(2000);
    expect([feed(100), feed(100), feed(100)]).toEqual(['critical', 'critical', 'ok']);
  });

  it('holds each signal separately and lists every signal holding the level', () => {
    const { sampler, monitor } = monitorWith();
    sampler.set({ rssMb: 1500, heapUsedMb: 3900, heapLimitMb: 4096, eventLoopDelayP99Ms: 1200 });
    const snap = monitor.tick();
    expect(snap.state).toBe('critical');
    expect(snap.reasons).toHaveLength(3);
    expect(snap.reasons[1]).toMatch(/^heap used 3900\.0 MB = 95\.2% of the 4096\.0 MB limit ≥ critical 92%$/);
    expect(snap.reasons[2]).toMatch(/^event-loop delay p99 1200 ms ≥ critical 1000 ms$/);
    // RSS and heap recover; the event loop is still slow.
    sampler.set({ rssMb: 100, heapUsedMb: 50 });
    for (let i = 0; i < 5; i++) monitor.tick();
    expect(monitor.state()).toBe('critical');
    expect(monitor.snapshot().reasons).toEqual([expect.stringMatching(/^event-loop delay p99/)]);
  });

  it('rejects thresholds that make no sense, naming the field', () => {
    const { monitor } = monitorWith();
    const attempt = (change: Record<string, number>) => {
      try {
        monitor.setThresholds(change);
      } catch (err) {
        return isAppError(err, 'VALIDATION_FAILED') ? err.extras.field : 'other error';
      }
      return 'accepted';
    };
    expect(attempt({ memoryWarnMb: -1 })).toBe('memoryWarnMb');
    expect(attempt({ heapCriticalFraction: 1.5 })).toBe('heapCriticalFraction');
    expect(attempt({ memoryWarnMb: 5000 })).toBe('memoryWarnMb'); // above critical 1024
    expect(attempt({ bogus: 1 })).toBe('bogus');
    expect(monitor.thresholds().memoryWarnMb).toBe(512);
    expect(attempt({ memoryWarnMb: 100, memoryCriticalMb: 200 })).toBe('accepted');
    expect(monitor.thresholds()).toMatchObject({ memoryWarnMb: 100, memoryCriticalMb: 200 });
  });
});
