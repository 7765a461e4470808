/**
 * The query cache's counters as callers see them (metrics, the dashboard):
 * a read-only view over the cache's own tallies and its store's state, so
 * that reading a figure costs a getter and nothing is copied per request.
 * Apart from src/cache/query-cache.ts to keep that module to its logic.
 */
import type { GuardedStore } from './guarded-store.ts';
import type { CacheStore } from './store.ts';

/** Counters since start, and the current state. */
export interface CacheStats {
  /** Answers from the cache, stale ones included. */
  readonly hits: number;
  /** Hits served after `ttlMs`, within `staleMs`, while a refresh ran. */
  readonly staleHits: number;
  /** Lookups that found nothing usable and ran `load()`. */
  readonly misses: number;
  /** Callers that shared another caller's `load()` instead of running their own. */
  readonly coalesced: number;
  /** Lookups that skipped the cache because it was unavailable (or disabled). */
  readonly bypassed: number;
  /** Lookups of `admitOnRepeat` keys not yet asked for again, which ran `load()` without the store. */
  readonly notAdmitted: number;
  /** Entries dropped to stay within CACHE_MAX_BYTES (memory store). */
  readonly evictions: number;
  /** Bytes of keys and values held in this process (memory store; 0 with Redis). */
  readonly bytes: number;
  /** Entries held in this process (memory store; 0 with Redis). */
  readonly entries: number;
  /** Failed or timed-out store calls and lost connections. */
  readonly errors: number;
  /** Background refreshes whose `load()` failed. */
  readonly refreshErrors: number;
  /** Invalidations waiting for the store to come back (tags, +1 for "everything"). */
  readonly pendingInvalidations: number;
  /** Where values are kept now: 'bypass' while the store is unavailable or the cache is disabled. */
  readonly mode: 'memory' | 'redis' | 'bypass';
}

/** The cache's own tallies, incremented by src/cache/query-cache.ts. */
export interface CacheCounts {
  hits: number;
  staleHits: number;
  misses: number;
  coalesced: number;
  bypassed: number;
  notAdmitted: number;
  refreshErrors: number;
}

/**
 * A live view: each getter reads the current value.
 *
 * @example
 * const stats = cacheStatsView(counts, store, guarded);
 * stats.hits; // counts.hits at this moment
 */
export function cacheStatsView(counts: CacheCounts, store: CacheStore | undefined, guarded: GuardedStore | undefined): CacheStats {
  return {
    get hits() {
      return counts.hits;
    },
    get staleHits() {
      return counts.staleHits;
    },
    get misses() {
      return counts.misses;
    },
    get coalesced() {
      return counts.coalesced;
    },
    get bypassed() {
      return counts.bypassed;
    },
    get evictions() {
      return store?.evictions ?? 0;
    },
    get bytes() {
      return store?.bytes ?? 0;
    },
    get entries() {
      return store?.entries ?? 0;
    },
    get errors() {
      return guarded?.errors ?? 0;
    },
    get notAdmitted() {
      return counts.notAdmitted;
    },
    get refreshErrors() {
      return counts.refreshErrors;
    },
    get pendingInvalidations() {
      return guarded?.pendingInvalidations ?? 0;
    },
    get mode() {
      return guarded?.mode ?? 'bypass';
    },
  };
}
