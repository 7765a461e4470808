/**
 * The monitor as a whole: transitions logged once each, the timer and the
 * real process sampler, and the snapshot shape health will publish.
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { createPressureMonitor } from '../../../src/guards/pressure/monitor.ts';
import { createProcessSampler } from '../../../src/guards/pressure/sampler.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { defaultSettings, linesWith, manualClock, scriptedSampler } from './fixtures.ts';

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('pressure monitor', () => {
  it('logs the warning once per transition, with the numbers and the signal, not once per sample', () => {
    const logs = captureLogs();
    const sampler = scriptedSampler();
    const monitor = createPressureMonitor(defaultSettings(), { logger: logs.logger, sample: sampler.sample });
    sampler.set({ heapUsedMb: 3400, heapLimitMb: 4096 }); // 83%: warning at 80%
    for (let i = 0; i < 20; i++) monitor.tick();
    let warnings = linesWith(logs.lines, 'pressure warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
    expect(warnings[0]!.pressure).toMatchObject({
      from: 'ok',
      to: 'warning',
      heapUsedMb: 3400,
      heapLimitMb: 4096,
      reasons: [expect.stringMatching(/^heap used 3400\.0 MB = 83% of the 4096\.0 MB limit ≥ warning 80%$/)],
    });

    sampler.set({ heapUsedMb: 100 });
    for (let i = 0; i < 10; i++) monitor.tick();
    expect(linesWith(logs.lines, 'pressure back to ok')).toHaveLength(1);
    sampler.set({ heapUsedMb: 3400 });
    for (let i = 0; i < 10; i++) monitor.tick();
    warnings = linesWith(logs.lines, 'pressure warning');
    expect(warnings).toHaveLength(2);
    expect(logs.lines.filter((l) => l.level === 40 || l.level === 50)).toHaveLength(2);
  });

  it('logs entering and leaving critical once each, at error and then warn', () => {
    const logs = captureLogs();
    const sampler = scriptedSampler();
    const monitor = createPressureMonitor(defaultSettings(), { logger: logs.logger, sample: sampler.sample });
    sampler.set({ rssMb: 2048 });
    for (let i = 0; i < 10; i++) monitor.tick();
    sampler.set({ rssMb: 600 });
    for (let i = 0; i < 10; i++) monitor.tick();
    const critical = linesWith(logs.lines, 'pressure critical: shedding load');
    expect(critical).toHaveLength(1);
    expect(critical[0]!.level).toBe(50);
    expect(critical[0]!.pressure).toMatchObject({ from: 'ok', to: 'critical', rssMb: 2048 });
    expect(linesWith(logs.lines, 'pressure eased to warning: shedding stopped')).toHaveLength(1);
  });

  it('reports when the current state began', () => {
    const clock = manualClock();
    const sampler = scriptedSampler();
    const monitor = createPressureMonitor(defaultSettings(), { logger: captureLogs().logger, sample: sampler.sample, now: clock.now });
    const created = new Date(clock.now()).toISOString();
    clock.advance(5_000);
    expect(monitor.tick()).toMatchObject({ state: 'ok', since: created, reasons: [] });
    sampler.set({ rssMb: 700 });
    clock.advance(1_000);
    const entered = new Date(clock.now()).toISOString();
    monitor.tick();
    clock.advance(1_000);
    expect(monitor.tick().since).toBe(entered);
  });

  it('samples on its own timer once started, and stops', async () => {
    const sampler = scriptedSampler();
    let calls = 0;
    const monitor = createPressureMonitor(
      { ...defaultSettings(), sampleMs: 10 },
      { logger: captureLogs().logger, sample: () => (calls++, sampler.sample()) },
    );
    monitor.start();
    monitor.start(); // idempotent: still one timer
    sampler.set({ rssMb: 5000 });
    await until(() => monitor.state() === 'critical');
    monitor.stop();
    const stoppedAt = calls;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls).toBe(stoppedAt);
  });

  it('keeps sampling when one sample throws, and logs it', async () => {
    const logs = captureLogs();
    let calls = 0;
    const monitor = createPressureMonitor(
      { ...defaultSettings(), sampleMs: 10 },
      {
        logger: logs.logger,
        sample: () => {
          calls += 1;
          if (calls === 1) throw new Error('boom');
          return { rssMb: 5000, heapUsedMb: 1, heapLimitMb: 4096, externalMb: 0, eventLoopDelayP99Ms: 0, eventLoopUtilization: 0 };
        },
      },
    );
    monitor.start();
    await until(() => monitor.state() === 'critical');
    monitor.stop();
    expect(linesWith(logs.lines, 'pressure sample failed')).toHaveLength(1);
  });

  it('reads real memory numbers from the process on its timer', async () => {
    const monitor = createPressureMonitor({ ...defaultSettings(), sampleMs: 10 }, { logger: captureLogs().logger });
    monitor.start();
    await until(() => monitor.snapshot().rssMb > 0);
    monitor.stop();
    const snap = monitor.snapshot();
    expect(snap.rssMb).toBeGreaterThan(10);
    expect(snap.heapUsedMb).toBeGreaterThan(1);
    expect(snap.heapLimitMb).toBeGreaterThan(snap.heapUsedMb);
    expect(snap.externalMb).toBeGreaterThanOrEqual(0);
    expect(snap.state).toBe('ok'); // a test process is far below the defaults
  });

  it('sees a blocked event loop in the delay p99 and the utilisation, wherever the block falls', async () => {
    const spin = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until);
    };
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const sampler = createProcessSampler();
    try {
      await pause(30);
      sampler.sample();
      spin(300); // right after a sample, where the histogram's reset leaves it blind
      await pause(50);
      const first = sampler.sample();
      expect(first.eventLoopDelayP99Ms).toBeGreaterThan(100);
      expect(first.eventLoopUtilization).toBeGreaterThan(0.3);
      expect(first.eventLoopUtilization).toBeLessThanOrEqual(1);

      await pause(50);
      spin(300); // in the middle of an interval
      await pause(50);
      expect(sampler.sample().eventLoopDelayP99Ms).toBeGreaterThan(100);

      await pause(100);
      expect(sampler.sample().eventLoopDelayP99Ms).toBeLessThan(100); // reset: the block is not carried over
    } finally {
      sampler.close();
    }
  });

  it('records heap used after a major GC', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sampler = createProcessSampler();
    try {
      expect(sampler.sample().heapAfterGcMb).toBeUndefined();
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries are delivered asynchronously
      const after = sampler.sample();
      expect(after.heapAfterGcMb).toBeGreaterThan(0);
      expect(after.heapAfterGcMb).toBeLessThan(after.heapLimitMb);
      expect(sampler.sample().heapAfterGcMb).toBeUndefined(); // reset per interval
    } finally {
      sampler.close();
    }
  });
});
