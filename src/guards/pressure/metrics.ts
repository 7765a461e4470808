/**
 * The pressure monitor's Prometheus metrics, read from `snapshot()` and
 * `shed` at scrape time (see src/metrics/observed.ts), for the registry's
 * `extra` list. Raw RSS and heap sizes are not repeated here: prom-client's
 * default metrics already publish them.
 */
import { observed, type ObservedMetric } from '../../metrics/observed.ts';
import type { PressureMonitor } from './monitor.ts';

const STATES = ['ok', 'warning', 'critical'] as const;

/**
 * @example
 * createMetricsRegistry({ pool, extra: [...pressureMetrics(pressure)] });
 */
export function pressureMetrics(monitor: Pick<PressureMonitor, 'snapshot' | 'shed'>): ObservedMetric[] {
  const p = 'holdfast_pressure';
  return [
    observed('gauge', `${p}_state`, 'Pressure state: 1 for the current one of ok, warning, critical', () => {
      const state = monitor.snapshot().state;
      return STATES.map((s) => ({ value: s === state ? 1 : 0, labels: { state: s } }));
    }),
    observed('counter', `${p}_shed_requests_total`, 'Requests refused with 503 OVERLOADED while critical', () => monitor.shed),
    observed(
      'gauge',
      `${p}_event_loop_delay_p99_seconds`,
      'Event-loop delay p99 over the last sample interval',
      () => monitor.snapshot().eventLoopDelayP99Ms / 1000,
    ),
    observed(
      'gauge',
      `${p}_event_loop_utilization`,
      'Share of the last sample interval the event loop was busy (0..1)',
      () => monitor.snapshot().eventLoopUtilization,
    ),
    observed('gauge', `${p}_heap_used_ratio`, 'Heap used as a fraction of the V8 heap limit', () => {
      const s = monitor.snapshot();
      return s.heapLimitMb > 0 ? s.heapUsedMb / s.heapLimitMb : 0;
    }),
    observed('gauge', `${p}_leak_suspected`, '1 while the heap floor climbs steadily (see docs/MEMORY.md)', () =>
      monitor.snapshot().leakSuspected ? 1 : 0,
    ),
    observed(
      'gauge',
      `${p}_heap_floor_slope_mb_per_minute`,
      'Trend of heap used after GC over the leak window',
      () => monitor.snapshot().leakSlopeMbPerMin ?? 0,
    ),
  ];
}
