/**
 * Read-through query cache: `wrap(key, { ttlMs, tags }, load)` answers from
 * the cache, or runs `load()` once per key and process and stores the result.
 *
 * The guarantee the routes rely on: after `invalidateTags(tags)` resolves,
 * no `wrap` on this instance returns a value loaded before it was called.
 * Three things make it hold: tag versions checked before storing (a slow
 * reader cannot store pre-write rows after the invalidation), flights
 * detached by tag (a new reader does not join a pre-write load), and failed
 * invalidations replayed before a recovered store is read again.
 *
 * Failure never reaches the caller: a store that errs or is slow makes
 * `wrap` call `load()` directly (within REDIS_COMMAND_TIMEOUT_MS), and
 * `invalidateTags` never throws. Errors of `load()` itself are the caller's
 * and are passed through, never cached.
 *
 * Our own rather than cache-manager, keyv or async-cache-dedupe: each covers
 * part of this (storage, expiry, coalescing, references), but we found none
 * that checks tag generations before storing, which is what closes the
 * invalidate-vs-repopulate race, or that replays invalidations lost to an
 * outage before serving again; bolting both on from outside is not possible.
 */
import { redactUrl } from '../config/redact.ts';
import type { CacheSettings } from '../config/index.ts';
import type { Logger } from '../log/logger.ts';
import { guardStore, type GuardedStore } from './guarded-store.ts';
import { createAdmission } from './admission.ts';
import { createMemoryStore, type MemoryStore } from './memory-store.ts';
import { createRedisStore } from './redis-store.ts';
import { abortedError } from '../context/deadline.ts';
import { createSingleFlight } from './single-flight.ts';
import { cacheStatsView, type CacheStats } from './cache-stats.ts';
import { createHitBurst } from './hit-burst.ts';
import type { CacheStore, Ticket } from './store.ts';
import type { TraceRef } from '../context/context.ts';
import type { RedisSpans } from '../telemetry/redis-spans.ts';

export type { CacheStats } from './cache-stats.ts';

export interface WrapOptions {
  /** How long a loaded value is served as fresh. */
  ttlMs: number;
  /** What the value was read from; `invalidateTags` with any of them drops it. */
  tags: readonly string[];
  /**
   * Stale-while-revalidate: for this long after `ttlMs`, the old value is
   * still served while one background `load()` refreshes it. Invalidated
   * values are never served stale. Default 0 (off).
   */
  staleMs?: number;
  /** Told how this lookup was answered (a trace's cache span, src/telemetry/cache-spans.ts). Must not throw. */
  onLookup?: (outcome: LookupOutcome) => void;
  /** The span the store's commands are children of (the lookup's span, src/telemetry/cache-spans.ts); Redis store only. */
  trace?: TraceRef | undefined;
  /**
   * Cache this key only once it is asked for again within the admission
   * window (src/cache/admission.ts); until then `load()` runs directly,
   * bypassing the store (CACHE_ADMISSION_THRESHOLD asks, default 3; 0 or 1
   * turns admission off). Lookups of keys already held are not counted. For reads spread over a large key space, such as
   * product by id. In-memory store only (with Redis every read is cached, as
   * other instances share it). Default false (cache from the first read).
   */
  admitOnRepeat?: boolean;
  /**
   * The caller's deadline and cancellation (its Context's signal). A caller
   * that joins another's load in flight stops waiting when it fires, with
   * 503 DEADLINE_EXCEEDED: the leader's load runs to the leader's own
   * deadline, which may be later than this caller's.
   */
  signal?: AbortSignal;
}

/** How one `wrap` was answered; `coalesced`: it waited on another caller's load (single flight). */
export type LookupOutcome = 'hit' | 'stale' | 'miss' | 'coalesced' | 'bypass' | 'error';

/** See {@link createQueryCache}. */
export interface QueryCache {
  /** The value for `key`: cached, or from `load()` (which must return JSON-serialisable data). */
  wrap<T>(key: string, options: WrapOptions, load: () => Promise<T>): Promise<T>;
  /** Drops every value carrying one of `tags`, on every instance sharing the store. Never throws. */
  invalidateTags(tags: readonly string[], trace?: TraceRef): Promise<void>;
  readonly stats: CacheStats;
  /** Closes the Redis connection; `wrap` then calls `load()` directly. */
  close(): Promise<void>;
}

export interface QueryCacheOptions {
  logger: Logger;
  /** `config.redis`; with a `url`, entries live in Redis and are shared by every instance. */
  redis?: { url: string | undefined; commandTimeoutMs: number } | undefined;
  /** Prefix of every Redis key. Default `holdfast:cache:v1:`. */
  prefix?: string;
  /** How often an unavailable store is checked. Default 1000 ms. */
  probeIntervalMs?: number;
  /** Failed invalidations remembered by tag before "forget everything" on recovery. Default 10 000. */
  maxPendingTags?: number;
  /** Admission window for `admitOnRepeat` keys, in lookups. Default: about the entries CACHE_MAX_BYTES holds (2 KB each), at least 1024. */
  admissionWindow?: number;
  /** Spans for the Redis store's commands (tracing on); see src/telemetry/redis-spans.ts. */
  redisSpans?: RedisSpans | undefined;
}

type Source = 'hit' | 'stale' | 'miss' | 'bypass';

interface Outcome {
  /** Undefined when `load()` returned undefined, which is passed on but never stored. */
  json: string | undefined;
  source: Source;
}

interface Policy {
  ttlMs: number;
  staleMs: number;
}

/**
 * Creates the cache: in memory by default, in Redis when `options.redis.url`
 * is set, a plain pass-through when `settings.enabled` is false.
 *
 * Values come back as `JSON.parse(JSON.stringify(value))` on hits and misses
 * alike, and each caller gets its own copy. In memory, a fresh hit is
 * answered synchronously from the store but resolved in the check phase of
 * the current event-loop turn, with the turn's other hits (hit-burst.ts).
 *
 * @example
 * const cache = createQueryCache(config.cache, { logger, redis: config.redis });
 * const product = await cache.wrap(`product:${id}`, { ttlMs: config.cache.ttl.productS * 1000, tags: [`product:${id}`] }, () => products.get(id));
 * // after an order commits:
 * await cache.invalidateTags([`product:${id}`, 'products:list']);
 */
export function createQueryCache(
  settings: Pick<CacheSettings, 'enabled' | 'maxBytes'> & { admissionThreshold?: number },
  options: QueryCacheOptions,
): QueryCache {
  const { logger } = options;
  const redisUrl = options.redis?.url;
  let store: CacheStore | undefined;
  let memory: MemoryStore | undefined;
  if (!settings.enabled) {
    logger.info('query cache disabled');
  } else if (redisUrl !== undefined && redisUrl !== '' && options.redis !== undefined) {
    store = createRedisStore({
      url: redisUrl,
      commandTimeoutMs: options.redis.commandTimeoutMs,
      prefix: options.prefix ?? 'holdfast:cache:v1:',
      spans: options.redisSpans,
    });
    logger.info({ cache: 'redis', url: redactUrl(redisUrl) }, 'query cache in redis');
  } else {
    store = memory = createMemoryStore({ maxBytes: settings.maxBytes });
    logger.info({ cache: 'memory', maxBytes: settings.maxBytes }, 'query cache in memory');
  }
  const guarded =
    store === undefined
      ? undefined
      : guardStore(store, {
          logger,
          timeoutMs: store.kind === 'redis' ? options.redis?.commandTimeoutMs : undefined,
          probeIntervalMs: options.probeIntervalMs ?? 1_000,
          maxPendingTags: options.maxPendingTags ?? 10_000,
        });

  const flights = createSingleFlight<Outcome>();
  const burst = createHitBurst();
  const refreshing = new Set<string>();
  const counts = { hits: 0, staleHits: 0, misses: 0, coalesced: 0, bypassed: 0, notAdmitted: 0, refreshErrors: 0 };
  const admissionThreshold = settings.admissionThreshold ?? 3;
  const admission =
    admissionThreshold > 1 && memory !== undefined
      ? createAdmission({
          window: options.admissionWindow ?? Math.max(1024, Math.floor(settings.maxBytes / 2048)),
          threshold: admissionThreshold,
        })
      : undefined;

  /**
   * Not `async` itself: with the cache off it hands back
   * `load()`'s own promise, so an uncached read pays no extra promise and
   * microtask hop per request. Errors still arrive as rejections.
   */
  function wrap<T>(key: string, wrapOptions: WrapOptions, load: () => Promise<T>): Promise<T> {
    let policy: Policy;
    try {
      policy = policyOf(wrapOptions);
    } catch (err) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the caller's own error on unchanged
      return Promise.reject(err);
    }
    if (guarded === undefined) {
      counts.bypassed++;
      wrapOptions.onLookup?.('bypass');
      return load();
    }
    // The in-memory hit path: no flight, ticket or await chain, and answered with the turn's other hits (hit-burst.ts).
    // Stale entries take the full path below, which starts their refresh.
    const held = memory === undefined || guarded.mode !== 'memory' ? undefined : memory.get(key);
    if (held !== undefined && Date.now() < held.freshUntil) {
      counts.hits++;
      wrapOptions.onLookup?.('hit');
      return burst.answer<T>(held.json);
    }
    // Memory store only: a shared Redis store serves a key another instance has seen, which this process's sketch cannot know.
    // Only keys not held are recorded: a held key (a stale one, here) is served whatever the sketch says, and hits
    // never reach this line, so the sketch counts the lookups that could store something.
    if (wrapOptions.admitOnRepeat === true && admission !== undefined && held === undefined && !admission.admit(key)) {
      // First sight: nothing to serve and likely nothing to gain by storing it.
      counts.notAdmitted++;
      wrapOptions.onLookup?.('bypass');
      return load();
    }
    return wrapCached(guarded, key, wrapOptions, policy, load);
  }

  async function wrapCached<T>(
    cacheStore: GuardedStore,
    key: string,
    wrapOptions: WrapOptions,
    policy: Policy,
    load: () => Promise<T>,
  ): Promise<T> {
    const tags = normaliseTags(wrapOptions.tags);
    const { promise, leader } = flights.run(key, tags, () => resolve(cacheStore, key, tags, policy, load, wrapOptions.trace));
    let outcome: Outcome;
    try {
      outcome = leader || wrapOptions.signal === undefined ? await promise : await untilAborted(promise, wrapOptions.signal);
    } catch (err) {
      if (!leader) counts.coalesced++;
      wrapOptions.onLookup?.('error');
      throw err;
    }
    const served = outcome.source === 'hit' || outcome.source === 'stale';
    if (!leader) {
      if (served) counts.hits++;
      else counts.coalesced++;
      if (outcome.source === 'stale') counts.staleHits++;
    }
    wrapOptions.onLookup?.(leader || served ? outcome.source : 'coalesced');
    return (outcome.json === undefined ? undefined : JSON.parse(outcome.json)) as T;
  }

  /** `promise`, or the signal's DEADLINE_EXCEEDED when it fires first; the listener is removed either way. */
  async function untilAborted<R>(promise: Promise<R>, signal: AbortSignal): Promise<R> {
    if (signal.aborted) throw abortedError(signal, "waiting for another request's load of the same key");
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => reject(abortedError(signal, "waiting for another request's load of the same key"));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([promise, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** The leader's lookup; counts its own outcome (joiners are counted in `wrap`). */
  async function resolve(
    g: GuardedStore,
    key: string,
    tags: readonly string[],
    policy: Policy,
    load: () => Promise<unknown>,
    trace: TraceRef | undefined,
  ): Promise<Outcome> {
    const read = await g.read(key, tags, policy.ttlMs + policy.staleMs, trace);
    if (read === undefined) {
      counts.bypassed++;
      return { json: await loadJson(load), source: 'bypass' };
    }
    let ticketHandedOff = false;
    try {
      const { entry } = read;
      const now = Date.now();
      if (entry !== undefined && now < entry.freshUntil) {
        counts.hits++;
        return { json: entry.json, source: 'hit' };
      }
      if (entry !== undefined && now < entry.freshUntil + policy.staleMs) {
        counts.hits++;
        counts.staleHits++;
        ticketHandedOff = refreshInBackground(g, key, policy, load, read.ticket, trace);
        return { json: entry.json, source: 'stale' };
      }
      counts.misses++;
      const json = await loadJson(load);
      if (json !== undefined) await g.write(key, entryFor(json, policy), read.ticket, trace);
      return { json, source: 'miss' };
    } finally {
      if (!ticketHandedOff) g.release(read.ticket);
    }
  }

  /** Starts one refresh per key; takes over the ticket (read before the refresh's load) when it starts one. */
  function refreshInBackground(
    g: GuardedStore,
    key: string,
    policy: Policy,
    load: () => Promise<unknown>,
    ticket: Ticket,
    trace: TraceRef | undefined,
  ): boolean {
    if (refreshing.has(key)) return false;
    refreshing.add(key);
    void (async () => {
      try {
        const json = await loadJson(load);
        if (json !== undefined) await g.write(key, entryFor(json, policy), ticket, trace);
      } catch (err) {
        counts.refreshErrors++;
        logger.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'query cache background refresh failed; serving the stale value until its grace ends',
        );
      } finally {
        g.release(ticket);
        refreshing.delete(key);
      }
    })();
    return true;
  }

  async function invalidateTags(tags: readonly string[], trace?: TraceRef): Promise<void> {
    if (guarded === undefined) return;
    const normal = normaliseTags(tags);
    if (normal.length === 0) return;
    flights.detach(normal);
    await guarded.invalidate(normal, trace);
    // A flight that started while the invalidation travelled may have read the old entry: detach it too.
    flights.detach(normal);
  }

  const stats = cacheStatsView(counts, store, guarded);

  return {
    wrap,
    invalidateTags,
    stats,
    close: async () => {
      await guarded?.close();
    },
  };
}

async function loadJson(load: () => Promise<unknown>): Promise<string | undefined> {
  const value = await load();
  return value === undefined ? undefined : JSON.stringify(value);
}

function entryFor(json: string, policy: Policy): { json: string; freshUntil: number; lifetimeMs: number } {
  return { json, freshUntil: Date.now() + policy.ttlMs, lifetimeMs: policy.ttlMs + policy.staleMs };
}

function normaliseTags(tags: readonly string[]): string[] {
  return [...new Set(tags)].sort();
}

/** Bad TTLs are programming errors, reported at once rather than silently caching forever or never. */
function policyOf(options: WrapOptions): Policy {
  const staleMs = options.staleMs ?? 0;
  if (!Number.isFinite(options.ttlMs) || options.ttlMs <= 0)
    throw new RangeError(`cache ttlMs must be a positive number, got ${options.ttlMs}`);
  if (!Number.isFinite(staleMs) || staleMs < 0) throw new RangeError(`cache staleMs must be zero or positive, got ${staleMs}`);
  return { ttlMs: options.ttlMs, staleMs };
}
