/**
 * Puts a store behind the Redis breaker (src/redis/fallback.ts) so that a
 * failing cache costs a request at most one bounded wait and then nothing
 * at all: while the breaker is open, reads and writes are skipped and
 * requests go straight to the database.
 *
 * What is the cache's own, on top of the breaker:
 * - Every call is bounded by `timeoutMs`, and a dropped connection (the
 *   client's events) opens the breaker before a request pays for it.
 * - Failed invalidations are remembered by tag, and the probe replays them
 *   before the breaker closes, so no read is served from a store that still
 *   holds what an invalidation during the outage dropped. Past
 *   `maxPendingTags` the list is dropped in favour of forgetting every entry
 *   on recovery: always correct, merely colder.
 * - Until the store first answers, the cache bypasses quietly; a connection
 *   error warns, and the first answer logs `query cache connected`.
 */
import type { TraceRef } from '../context/context.ts';
import type { Logger } from '../log/logger.ts';
import type { CacheStore, NewEntry, ReadResult, Ticket } from './store.ts';
import { withDeadline } from '../async/deadline.ts';
import { createRedisFallback } from '../redis/fallback.ts';

export interface GuardOptions {
  logger: Logger;
  /** Bound on each store call; undefined for stores that cannot hang (memory). */
  timeoutMs: number | undefined;
  /** How often to check a failed store. */
  probeIntervalMs: number;
  /** Failed invalidations remembered by tag before falling back to forgetting everything. */
  maxPendingTags: number;
}

/** A store that never throws and never waits longer than its bound. */
export interface GuardedStore {
  /** The store's kind while it works, 'bypass' while it does not. */
  readonly mode: 'memory' | 'redis' | 'bypass';
  /** Failed store calls and lost connections. */
  readonly errors: number;
  /** Tags whose invalidation waits for the store to come back, plus 1 if everything is to be forgotten. */
  readonly pendingInvalidations: number;
  /** Undefined when the store is not usable: the caller loads without caching. */
  read(key: string, tags: readonly string[], lifetimeMs: number, trace?: TraceRef): Promise<ReadResult | undefined>;
  write(key: string, entry: NewEntry, ticket: Ticket, trace?: TraceRef): Promise<void>;
  release(ticket: Ticket): void;
  /** Invalidates now, or remembers the tags for replay on recovery. */
  invalidate(tags: readonly string[], trace?: TraceRef): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wraps `store`; starts open (bypassing) if the store is not ready yet.
 *
 * @example
 * const guarded = guardStore(createRedisStore(...), { logger, timeoutMs: 100, probeIntervalMs: 1000, maxPendingTags: 10_000 });
 */
export function guardStore(store: CacheStore, options: GuardOptions): GuardedStore {
  const { timeoutMs } = options;
  let closed = false;
  let errors = 0;
  const pendingTags = new Set<string>();
  let pendingAll = false;

  const bounded = <T>(promise: Promise<T>, what: string): Promise<T> =>
    timeoutMs === undefined ? promise : withDeadline(promise, timeoutMs, what);

  const breaker = createRedisFallback({
    logger: options.logger,
    probeIntervalMs: options.probeIntervalMs,
    startHealthy: store.ready,
    canProbe: () => store.ready,
    probe: async () => {
      await bounded(store.ping(), 'ping');
      // Checked again after each await: an invalidation may have failed meanwhile, and must not be skipped.
      while (pendingAll || pendingTags.size > 0) await replayOnce();
    },
    context: () => ({ cache: store.kind }),
    messages: {
      unavailable: 'query cache unavailable; bypassing it until it recovers',
      recovered: 'query cache recovered',
      connected: 'query cache connected',
    },
  });

  function fail(err: unknown, during: string): void {
    errors++;
    breaker.fail(err, during);
  }

  function remember(tags: readonly string[]): void {
    if (pendingAll) return;
    for (const tag of tags) pendingTags.add(tag);
    if (pendingTags.size > options.maxPendingTags) {
      pendingTags.clear();
      pendingAll = true;
    }
  }

  /** Replays what failed during the outage; throws (keeping it remembered) if the store fails again. */
  async function replayOnce(): Promise<void> {
    const all = pendingAll;
    const tags = all ? [] : [...pendingTags];
    if (all) {
      pendingAll = false;
      pendingTags.clear();
    } else {
      for (const tag of tags) pendingTags.delete(tag);
    }
    try {
      await bounded(all ? store.invalidateAll() : store.invalidate(tags), 'replay of invalidations');
    } catch (err) {
      if (all) pendingAll = true;
      else remember(tags);
      throw err;
    }
  }

  store.watch?.({
    up: () => void breaker.recover(),
    down: (err) => {
      if (breaker.healthy) errors++;
      breaker.fail(err, 'connection');
    },
  });

  const usable = (): boolean => breaker.healthy && !closed;

  return {
    get mode() {
      return usable() ? store.kind : 'bypass';
    },
    get errors() {
      return errors;
    },
    get pendingInvalidations() {
      return pendingTags.size + (pendingAll ? 1 : 0);
    },
    async read(key, tags, lifetimeMs, trace) {
      if (!usable()) return undefined;
      try {
        return await bounded(store.read(key, tags, lifetimeMs, trace), 'read');
      } catch (err) {
        fail(err, 'read');
        return undefined;
      }
    },
    async write(key, entry, ticket, trace) {
      if (!usable()) return;
      try {
        await bounded(store.write(key, entry, ticket, trace), 'write');
      } catch (err) {
        fail(err, 'write');
      }
    },
    release: (ticket) => store.release(ticket),
    async invalidate(tags, trace) {
      if (closed || tags.length === 0) return;
      // Tried even while bypassing if the client is connected: another instance may be serving the entry.
      if (breaker.healthy || store.ready) {
        try {
          await bounded(store.invalidate(tags, trace), 'invalidate');
          return;
        } catch (err) {
          fail(err, 'invalidate');
        }
      }
      remember(tags);
    },
    async close() {
      if (closed) return;
      closed = true;
      breaker.close();
      await store.close();
    },
  };
}
