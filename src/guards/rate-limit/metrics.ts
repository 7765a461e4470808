/**
 * The rate limiter's Prometheus metrics, read from its counters at scrape
 * time (see src/metrics/observed.ts).
 */
import { observed, type ObservedMetric } from '../../metrics/observed.ts';
import type { RateLimitStats } from './index.ts';

/**
 * @example
 * createMetricsRegistry({ pool, extra: [...rateLimitMetrics(limiter.stats)] });
 */
export function rateLimitMetrics(stats: RateLimitStats): ObservedMetric[] {
  const p = 'holdfast_rate_limit';
  return [
    observed('counter', `${p}_admitted_total`, 'Requests admitted on rate-limited routes', () => stats.admitted),
    observed('counter', `${p}_limited_total`, 'Requests refused with 429 RATE_LIMITED', () => stats.limited),
    observed(
      'counter',
      `${p}_fallback_decisions_total`,
      'Decisions made in memory because Redis failed or was slow',
      () => stats.fallbackDecisions,
    ),
    observed('gauge', `${p}_fallback`, '1 while Redis is configured but unreachable and limits are per instance', () =>
      stats.mode === 'fallback' ? 1 : 0,
    ),
  ];
}
