/**
 * The pressure metrics read the monitor at scrape time.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { pressureMetrics } from '../../../src/guards/pressure/metrics.ts';
import { createPressureMonitor } from '../../../src/guards/pressure/monitor.ts';
import { registerAll } from '../../../src/metrics/observed.ts';
import { captureLogs } from '../../helpers/logs.ts';
import { defaultSettings, scriptedSampler } from './fixtures.ts';

describe('pressure metrics', () => {
  it('publish the state, shed count and event-loop numbers as of the scrape', async () => {
    const sampler = scriptedSampler();
    const monitor = createPressureMonitor(defaultSettings(), { logger: captureLogs().logger, sample: sampler.sample });
    const registry = new Registry();
    registerAll(registry, pressureMetrics(monitor));

    sampler.set({ eventLoopDelayP99Ms: 1500, eventLoopUtilization: 0.97, heapUsedMb: 1024, heapLimitMb: 4096 });
    monitor.tick();
    let text = await registry.metrics();
    expect(text).toMatch(/^holdfast_pressure_state\{state="critical"\} 1$/m);
    expect(text).toMatch(/^holdfast_pressure_state\{state="ok"\} 0$/m);
    expect(text).toMatch(/^holdfast_pressure_event_loop_delay_p99_seconds 1\.5$/m);
    expect(text).toMatch(/^holdfast_pressure_event_loop_utilization 0\.97$/m);
    expect(text).toMatch(/^holdfast_pressure_heap_used_ratio 0\.25$/m);
    expect(text).toMatch(/^holdfast_pressure_leak_suspected 0$/m);
    expect(text).toMatch(/^holdfast_pressure_shed_requests_total 0$/m);

    sampler.set({ eventLoopDelayP99Ms: 5 });
    for (let i = 0; i < 3; i++) monitor.tick();
    text = await registry.metrics();
    expect(text).toMatch(/^holdfast_pressure_state\{state="ok"\} 1$/m);
  });
});
