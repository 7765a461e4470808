/**
 * Reads the process's memory and event-loop numbers, one sample per call.
 *
 * Event-loop delay is the p99 of `monitorEventLoopDelay` since the previous
 * sample (the histogram is reset each time, so one bad second is not
 * averaged away over the process's life). A reset also drops the histogram's
 * next interval (Node clears its previous-tick time), which would hide a
 * block that starts right after a sample; a one-shot probe timer armed at
 * each reset measures exactly that span, and the larger of the two is
 * reported. Utilisation is the
 * `eventLoopUtilization` delta over the same interval. Heap used right after
 * each major GC is recorded through a `gc` PerformanceObserver: that floor,
 * not the sawtooth in between, is what a leak raises.
 */
import { constants, monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** One reading of the process; sizes in MB (2^20 bytes). */
export interface Sample {
  rssMb: number;
  heapUsedMb: number;
  /** V8's `heap_size_limit`: the heap size at which the process dies. */
  heapLimitMb: number;
  externalMb: number;
  /** p99 event-loop delay since the previous sample. */
  eventLoopDelayP99Ms: number;
  /** Share of time the event loop was busy since the previous sample, 0..1. */
  eventLoopUtilization: number;
  /** Lowest heap used just after a major GC since the previous sample, if one ran. */
  heapAfterGcMb?: number;
}

export interface ProcessSampler {
  sample(): Sample;
  /** Stops the histogram and the GC observer. */
  close(): void;
}

const MB = 1024 * 1024;
const RESOLUTION_MS = 10;

/**
 * @example
 * const sampler = createProcessSampler();
 * setTimeout(() => { console.log(sampler.sample()); sampler.close(); }, 1000);
 */
export function createProcessSampler(): ProcessSampler {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let gapDelayMs = 0;
  let probe: NodeJS.Timeout | undefined;
  let probeArmedAt: number | undefined;
  const settleProbe = () => {
    if (probeArmedAt === undefined) return;
    gapDelayMs = Math.max(gapDelayMs, performance.now() - probeArmedAt - RESOLUTION_MS);
    probeArmedAt = undefined;
  };
  const armGapProbe = () => {
    probeArmedAt = performance.now();
    probe = setTimeout(settleProbe, RESOLUTION_MS);
    probe.unref();
  };
  armGapProbe();
  let lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  let heapAfterGc: number | undefined;

  const gc = new PerformanceObserver(function recordHeapAfterMajorGc(list) {
    for (const entry of list.getEntries()) {
      if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      // Entries are delivered shortly after the GC, so this is its floor plus
      // a little allocation since, close enough for a trend.
      const used = getHeapStatistics().used_heap_size;
      heapAfterGc = heapAfterGc === undefined ? used : Math.min(heapAfterGc, used);
    }
  });
  gc.observe({ entryTypes: ['gc'] });

  function sample(): Sample {
    const memory = process.memoryUsage();
    const elu = performance.eventLoopUtilization();
    const utilization = performance.eventLoopUtilization(elu, lastElu).utilization;
    lastElu = elu;
    // An empty histogram (no timer tick since the reset) reports NaN or 0.
    settleProbe(); // still pending: it is late by at least this much
    const histogramP99 = delay.count > 0 ? delay.percentile(99) / 1e6 : 0;
    const p99 = Math.max(Number.isFinite(histogramP99) ? histogramP99 : 0, gapDelayMs);
    delay.reset();
    gapDelayMs = 0;
    clearTimeout(probe);
    armGapProbe();
    const result: Sample = {
      rssMb: memory.rss / MB,
      heapUsedMb: memory.heapUsed / MB,
      heapLimitMb: getHeapStatistics().heap_size_limit / MB,
      externalMb: memory.external / MB,
      eventLoopDelayP99Ms: p99,
      eventLoopUtilization: Number.isFinite(utilization) ? utilization : 0,
    };
    if (heapAfterGc !== undefined) result.heapAfterGcMb = heapAfterGc / MB;
    heapAfterGc = undefined;
    return result;
  }

  function close(): void {
    delay.disable();
    clearTimeout(probe);
    gc.disconnect();
  }

  return { sample, close };
}
