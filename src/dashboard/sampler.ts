/**
 * Builds one dashboard frame from the live objects: the pool's counters, the
 * pressure monitor's last sample, the cache and rate-limit counters, the
 * profiler's in-memory report and the HTTP histogram.
 *
 * Everything here is a read of memory the process already keeps; nothing
 * touches the database (pg_stat_statements stays on /admin/queries). Counters
 * are diffed against the previous sample, so the first sample after
 * `reset()` only sets the baseline.
 */
import type { Registry } from 'prom-client';
import type { CacheStats } from '../cache/query-cache.ts';
import type { PoolStats } from '../db/pool/counters.ts';
import type { PressureMonitor } from '../guards/pressure/monitor.ts';
import type { RateLimitStats } from '../guards/rate-limit/index.ts';
import type { QueryProfiler } from '../profiler/profiler.ts';
import { overallState, type DashboardFrame, type SlowQueryRow } from './frame.ts';
import { createHttpRates } from './http-rates.ts';
import { diffCounts, interpolatedQuantile } from '../stats/quantiles.ts';

/** What a frame is built from; every member is read, never written. */
export interface DashboardSources {
  /** Read through the pool's one counters object. */
  pool: {
    readonly counters: Pick<
      PoolStats,
      | 'size'
      | 'idle'
      | 'active'
      | 'waiting'
      | 'pending'
      | 'min'
      | 'max'
      | 'limit'
      | 'timeouts'
      | 'queueFull'
      | 'exhausted'
      | 'acquireWait'
      | 'queueDelayMs'
      | 'shed'
    >;
  };
  pressure: Pick<PressureMonitor, 'snapshot' | 'thresholds' | 'shed'>;
  rateLimiter: { stats: Pick<RateLimitStats, 'limited' | 'mode'> };
  cache: { stats: Pick<CacheStats, 'hits' | 'misses' | 'mode'> };
  profiler: Pick<QueryProfiler, 'report'>;
  /** The registry holding `holdfast_http_request_duration_seconds`. */
  metrics: Registry;
}

export interface FrameSampler {
  /** Forgets previous counters; the next `sample` is a baseline with zero rates. */
  reset(): void;
  sample(streams: number): Promise<DashboardFrame>;
}

const SLOW_QUERY_ROWS = 10;
const FINGERPRINT_CHARS = 400;

/**
 * @example
 * const sampler = createFrameSampler({ pool, pressure, rateLimiter, cache, profiler, metrics });
 * await sampler.sample(1); // baseline
 * const frame = await sampler.sample(1); // a second later: rates over that second
 */
export function createFrameSampler(sources: DashboardSources, options: { now?: () => number } = {}): FrameSampler {
  const { pressure, rateLimiter, cache, profiler, metrics } = sources;
  const pool = sources.pool.counters;
  const now = options.now ?? (() => performance.now());
  const http = createHttpRates(metrics);
  let previous: { at: number; acquireCounts: number[]; timeouts: number; shed: number; hits: number; misses: number } | undefined;

  return {
    reset: function resetSampler() {
      previous = undefined;
      http.reset();
    },
    sample: async function sampleFrame(streams: number): Promise<DashboardFrame> {
      const at = now();
      const httpInterval = await http.read();
      const acquire = pool.acquireWait.snapshot();
      const shedTotal = pool.shed.critical + pool.shed.high + pool.shed.normal + pool.shed.low;
      const counters = {
        at,
        acquireCounts: acquire.counts,
        timeouts: pool.timeouts,
        shed: shedTotal,
        hits: cache.stats.hits,
        misses: cache.stats.misses,
      };
      const base = previous;
      previous = counters;
      const intervalS = base === undefined ? 0 : Math.max((at - base.at) / 1000, 0.001);
      const perS = (n: number) => (intervalS === 0 ? 0 : round2(n / intervalS));

      const timeouts = base === undefined ? 0 : Math.max(0, counters.timeouts - base.timeouts);
      const shed = base === undefined ? 0 : Math.max(0, counters.shed - base.shed);
      const hits = base === undefined ? 0 : Math.max(0, counters.hits - base.hits);
      const misses = base === undefined ? 0 : Math.max(0, counters.misses - base.misses);
      const acquireP99 =
        base === undefined ? undefined : interpolatedQuantile(acquire.bounds, diffCounts(acquire.counts, base.acquireCounts), 0.99);

      const p = pressure.snapshot();
      const t = pressure.thresholds();
      return {
        t: Date.now(),
        intervalS: round2(intervalS),
        state: overallState({
          pressureState: p.state,
          pressureReasons: p.reasons,
          poolSize: pool.size,
          poolMin: pool.min,
          waiting: pool.waiting,
          timeouts,
          unavailable: httpInterval.unavailable,
          errors: httpInterval.errors,
        }),
        http: {
          rps: perS(httpInterval.requests),
          p99Ms: httpInterval.p99Ms ?? null,
          errorsPerS: perS(httpInterval.errors),
          limitedPerS: perS(httpInterval.limited),
          unavailablePerS: perS(httpInterval.unavailable),
          totalRequests: httpInterval.totalRequests,
          routes: httpInterval.routes.map((r) => ({ route: r.route, rps: perS(r.requests), p99Ms: r.p99Ms ?? null })),
        },
        pool: {
          size: pool.size,
          idle: pool.idle,
          active: pool.active,
          waiting: pool.waiting,
          pending: pool.pending,
          min: pool.min,
          max: pool.max,
          limit: pool.limit,
          acquireP99Ms: acquireP99 === undefined ? null : round2(acquireP99),
          timeoutsPerS: perS(timeouts),
          queueDelayMs: round2(pool.queueDelayMs),
          shedPerS: perS(shed),
          timeouts: pool.timeouts,
          queueFull: pool.queueFull,
          exhausted: pool.exhausted,
        },
        memory: {
          rssMb: p.rssMb,
          heapUsedMb: p.heapUsedMb,
          heapLimitMb: p.heapLimitMb,
          rssWarnMb: t.memoryWarnMb,
          rssCriticalMb: t.memoryCriticalMb,
          heapWarnMb: round2(t.heapWarnFraction * p.heapLimitMb),
          heapCriticalMb: round2(t.heapCriticalFraction * p.heapLimitMb),
        },
        eventLoop: {
          delayP99Ms: p.eventLoopDelayP99Ms,
          utilization: p.eventLoopUtilization,
          delayWarnMs: t.eventLoopDelayWarnMs,
          delayMaxMs: t.eventLoopDelayMaxMs,
        },
        cache: {
          mode: cache.stats.mode,
          hitRate: hits + misses === 0 ? null : round2(hits / (hits + misses)),
          lookupsPerS: perS(hits + misses),
          hits: counters.hits,
          misses: counters.misses,
        },
        rateLimit: { mode: rateLimiter.stats.mode, limited: rateLimiter.stats.limited },
        pressure: { state: p.state, since: p.since, shed: pressure.shed, leakSuspected: p.leakSuspected },
        slowQueries: profiler.report(SLOW_QUERY_ROWS).statements.map((s): SlowQueryRow => ({
          id: s.id,
          fingerprint: s.fingerprint.length > FINGERPRINT_CHARS ? `${s.fingerprint.slice(0, FINGERPRINT_CHARS)}…` : s.fingerprint,
          command: s.command,
          calls: s.calls,
          errors: s.errors,
          meanMs: s.meanMs,
          p95Ms: s.p95Ms,
          maxMs: s.maxMs,
          totalMs: s.totalMs,
          slowCalls: s.slowCalls,
          slowestTraceIds: s.slowestTraces.map((t) => t.traceId),
          hasPlan: s.plan !== null,
        })),
        streams,
      };
    },
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
