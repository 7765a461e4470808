/**
 * The contract between the query cache and a place that keeps entries, so
 * that the read-through logic, single-flight and failure handling are written
 * once and the memory and Redis stores only store.
 *
 * A store hands out a *ticket* with every read: the versions of the entry's
 * tags as they were before `load()` ran. `write` stores only if no tag was
 * invalidated since, which is what stops a slow reader from putting rows it
 * read before a write back into the cache after that write's invalidation.
 */

import type { TraceRef } from '../context/context.ts';

/** An entry as read back: its serialised value and when it stops being fresh (epoch ms). */
export interface StoredEntry {
  json: string;
  freshUntil: number;
}

/** An entry to store: `lifetimeMs` is freshness plus any stale grace; the store drops it after. */
export interface NewEntry extends StoredEntry {
  lifetimeMs: number;
}

/** Opaque to callers; each store knows its own shape. */
export type Ticket = unknown;

export interface ReadResult {
  /** Present even when no longer fresh, as long as its lifetime has not ended. */
  entry: StoredEntry | undefined;
  /** Pass to `write` (and always to `release`). */
  ticket: Ticket;
}

/** Connection events of a remote store, so an outage is noticed before a request pays for it. */
export interface StoreEvents {
  up(): void;
  down(err: Error): void;
}

/**
 * What the memory and Redis stores implement. Methods may throw or hang; the
 * guard in guarded-store.ts bounds them and turns failures into bypass.
 *
 * @example
 * const { entry, ticket } = await store.read('product:7', ['product:7'], 30_000);
 * try { if (!entry) await store.write('product:7', { json, freshUntil, lifetimeMs }, ticket); }
 * finally { store.release(ticket); }
 *
 * `trace` (optional everywhere) is the span a remote store's commands are
 * children of (src/telemetry/redis-spans.ts); the memory store ignores it.
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  /** Whether the store can take commands now (always true for memory). */
  readonly ready: boolean;
  /** `tags` sorted and unique; `lifetimeMs` sizes the bookkeeping a read may create. */
  read(key: string, tags: readonly string[], lifetimeMs: number, trace?: TraceRef): Promise<ReadResult>;
  /** Stores unless a tag of the ticket was invalidated since its read; true when stored. */
  write(key: string, entry: NewEntry, ticket: Ticket, trace?: TraceRef): Promise<boolean>;
  /** Ends a ticket's life; idempotent. */
  release(ticket: Ticket): void;
  /** Makes every entry carrying one of `tags` unreadable, and every open ticket on them unwritable. */
  invalidate(tags: readonly string[], trace?: TraceRef): Promise<void>;
  /** Makes every entry unreadable. */
  invalidateAll(): Promise<void>;
  /** Resolves when the store answers. */
  ping(): Promise<void>;
  watch?(events: StoreEvents): void;
  /** Bytes of cached keys and values held in this process (0 for Redis). */
  readonly bytes: number;
  /** Entries held in this process (0 for Redis). */
  readonly entries: number;
  /** Entries dropped to stay within the byte bound. */
  readonly evictions: number;
  close(): Promise<void>;
}
