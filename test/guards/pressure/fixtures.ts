/**
 * Shared pieces for the pressure tests: the real default settings, a
 * scripted sampler and a hand-driven clock, so states are driven by data
 * rather than by the test machine's actual memory.
 */
import { loadConfig } from '../../../src/config/index.ts';
import type { PressureMonitorSettings, Sample } from '../../../src/guards/pressure/monitor.ts';

/**
 * `config.pressure` with no environment: the shipped defaults.
 *
 * @example
 * const settings = { ...defaultSettings(), heapSnapshotDir: dir };
 */
export function defaultSettings(): PressureMonitorSettings {
  return { ...loadConfig({}).pressure };
}

/**
 * A quiet process: far below every default threshold.
 *
 * @example
 * sampler.set({ ...calmSample(), rssMb: 2000 });
 */
export function calmSample(): Sample {
  return { rssMb: 100, heapUsedMb: 50, heapLimitMb: 4096, externalMb: 5, eventLoopDelayP99Ms: 10, eventLoopUtilization: 0.1 };
}

/**
 * A sampler whose next reading the test sets.
 *
 * @example
 * const sampler = scriptedSampler();
 * const monitor = createPressureMonitor(settings, { logger, sample: sampler.sample });
 * sampler.set({ rssMb: 2000 }); monitor.tick();
 */
export function scriptedSampler(initial: Sample = calmSample()) {
  let current = { ...initial };
  return {
    sample: (): Sample => ({ ...current }),
    set(change: Partial<Sample>) {
      current = { ...current, ...change };
    },
  };
}

/**
 * A clock that moves only when told.
 *
 * @example
 * const clock = manualClock(); clock.advance(30_000);
 */
export function manualClock(startMs = Date.parse('2025-01-01T00:00:00Z')) {
  let t = startMs;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/**
 * Log lines whose message is `msg`.
 *
 * @example
 * expect(linesWith(logs.lines, 'pressure warning')).toHaveLength(1);
 */
export function linesWith(lines: Record<string, unknown>[], msg: string): Record<string, any>[] {
  return lines.filter((line) => line.msg === msg);
}
