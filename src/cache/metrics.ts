/**
 * The query cache's Prometheus metrics, read from its stats at scrape time
 * (see src/metrics/observed.ts for why nothing is pushed per request).
 * Hit ratio: `rate(holdfast_cache_hits_total[5m]) / (rate(holdfast_cache_hits_total[5m]) + rate(holdfast_cache_misses_total[5m]))`.
 */
import { observed, type ObservedMetric } from '../metrics/observed.ts';
import type { QueryCache } from './query-cache.ts';

const MODES = ['memory', 'redis', 'bypass'] as const;

/**
 * Metrics for `cache`, to register with the process registry.
 *
 * @example
 * registerAll(registry, cacheMetrics(cache));
 */
export function cacheMetrics(cache: QueryCache): ObservedMetric[] {
  const p = 'holdfast_cache';
  const s = cache.stats;
  return [
    observed('counter', `${p}_hits_total`, 'Lookups answered from the cache (stale ones included)', () => s.hits),
    observed('counter', `${p}_stale_hits_total`, 'Hits served stale while a background refresh ran', () => s.staleHits),
    observed('counter', `${p}_misses_total`, 'Lookups that ran the query', () => s.misses),
    observed('counter', `${p}_coalesced_total`, 'Lookups that shared a query already running in this process', () => s.coalesced),
    observed('counter', `${p}_bypassed_total`, 'Lookups that skipped the cache because it was unavailable or disabled', () => s.bypassed),
    observed(
      'counter',
      `${p}_not_admitted_total`,
      'Lookups of keys not yet asked for again, which skipped the cache (admission)',
      () => s.notAdmitted,
    ),
    observed('counter', `${p}_evictions_total`, 'Entries evicted to stay within CACHE_MAX_BYTES', () => s.evictions),
    observed('counter', `${p}_errors_total`, 'Failed or timed-out cache store calls and lost connections', () => s.errors),
    observed('counter', `${p}_refresh_errors_total`, 'Background refreshes whose query failed', () => s.refreshErrors),
    observed('gauge', `${p}_bytes`, 'Bytes of keys and values held in this process (memory store)', () => s.bytes),
    observed('gauge', `${p}_entries`, 'Entries held in this process (memory store)', () => s.entries),
    observed('gauge', `${p}_pending_invalidations`, 'Invalidations waiting for the store to come back', () => s.pendingInvalidations),
    observed('gauge', `${p}_mode`, 'Where values are kept now (1 for the current mode)', () =>
      MODES.map((mode) => ({ value: s.mode === mode ? 1 : 0, labels: { mode } })),
    ),
  ];
}
