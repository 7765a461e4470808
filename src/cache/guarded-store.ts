/**
 * Puts a store behind a breaker so that a failing cache costs a request at
 * most one bounded wait and then nothing at all.
 *
 * - Every call is bounded by `timeoutMs`. The first failure (or a dropped
 *   connection) opens the breaker: reads and writes are skipped and requests
 *   go straight to the database. One warning is logged per outage.
 * - While open, a probe (and the client's `ready` event) checks the store;
 *   on an answer, invalidations that failed during the outage are replayed
 *   first, and only then are reads served again. One info line on recovery.
 * - Failed invalidations are remembered by tag. Past `maxPendingTags` the
 *   list is dropped in favour of forgetting every entry on recovery: always
 *   correct, merely colder.
 *
 * A hand-rolled breaker rather than opossum or cockatiel: the part that
 * matters here is the replay of invalidations before closing, which no
 * breaker library models, and the rest is a boolean and a timer.
 */
import type { Logger } from '../log/logger.ts';
import type { CacheStore, NewEntry, ReadResult, Ticket } from './store.ts';
import { withDeadline } from '../async/deadline.ts';

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
  read(key: string, tags: readonly string[], lifetimeMs: number): Promise<ReadResult | undefined>;
  write(key: string, entry: NewEntry, ticket: Ticket): Promise<void>;
  release(ticket: Ticket): void;
  /** Invalidates now, or remembers the tags for replay on recovery. */
  invalidate(tags: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * Wraps `store`; starts open (bypassing) if the store is not ready yet.
 *
 * @example
 * const guarded = guardStore(createRedisStore(...), { logger, timeoutMs: 100, probeIntervalMs: 1000, maxPendingTags: 10_000 });
 */
export function guardStore(store: CacheStore, options: GuardOptions): GuardedStore {
  const { logger, timeoutMs } = options;
  let up = store.ready;
  let everUp = up;
  let closed = false;
  /** Whether the current outage has been logged. */
  let warned = false;
  let errors = 0;
  let probe: NodeJS.Timeout | undefined;
  let recovering: Promise<void> | undefined;
  const pendingTags = new Set<string>();
  let pendingAll = false;

  const bounded = <T>(promise: Promise<T>, what: string): Promise<T> =>
    timeoutMs === undefined ? promise : withDeadline(promise, timeoutMs, what);

  function startProbe(): void {
    if (probe !== undefined || closed) return;
    probe = setInterval(() => {
      if (store.ready) void recover();
    }, options.probeIntervalMs);
    probe.unref();
  }

  function goDown(err: unknown, during: string): void {
    if (closed) return;
    up = false;
    if (!warned) {
      warned = true;
      // The message only: an error object from a client may carry its options, URL and password included.
      logger.warn({ cache: store.kind, during, err: errorMessage(err) }, 'query cache unavailable; bypassing it until it recovers');
    }
    startProbe();
  }

  function fail(err: unknown, during: string): void {
    errors++;
    goDown(err, during);
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

  function recover(): Promise<void> {
    if (closed || up) return Promise.resolve();
    recovering ??= (async () => {
      try {
        await bounded(store.ping(), 'ping');
        // Checked again after each await: an invalidation may have failed meanwhile, and must not be skipped.
        while (pendingAll || pendingTags.size > 0) await replayOnce();
        if (closed) return;
        up = true;
        warned = false;
        if (probe !== undefined) clearInterval(probe);
        probe = undefined;
        logger.info({ cache: store.kind }, everUp ? 'query cache recovered' : 'query cache connected');
        everUp = true;
      } catch (err) {
        goDown(err, 'recovery');
      } finally {
        recovering = undefined;
      }
    })();
    return recovering;
  }

  store.watch?.({
    up: () => void recover(),
    down: (err) => {
      if (up) errors++;
      goDown(err, 'connection');
    },
  });
  // Not connected yet: bypass quietly; `ready` or the probe brings it in, a connection error warns.
  if (!up) startProbe();

  return {
    get mode() {
      return up ? store.kind : 'bypass';
    },
    get errors() {
      return errors;
    },
    get pendingInvalidations() {
      return pendingTags.size + (pendingAll ? 1 : 0);
    },
    async read(key, tags, lifetimeMs) {
      if (!up) return undefined;
      try {
        return await bounded(store.read(key, tags, lifetimeMs), 'read');
      } catch (err) {
        fail(err, 'read');
        return undefined;
      }
    },
    async write(key, entry, ticket) {
      if (!up) return;
      try {
        await bounded(store.write(key, entry, ticket), 'write');
      } catch (err) {
        fail(err, 'write');
      }
    },
    release: (ticket) => store.release(ticket),
    async invalidate(tags) {
      if (closed || tags.length === 0) return;
      // Tried even while bypassing if the client is connected: another instance may be serving the entry.
      if (up || store.ready) {
        try {
          await bounded(store.invalidate(tags), 'invalidate');
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
      up = false;
      if (probe !== undefined) clearInterval(probe);
      probe = undefined;
      await store.close();
    },
  };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
