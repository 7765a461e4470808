/**
 * The in-process store: an LRU bounded in bytes (lru-cache with `maxSize`),
 * with a tag index so that invalidation frees entries at once.
 *
 * Each tag that has live entries or an open ticket has one record: the keys
 * carrying it and a version. Invalidation gives the tag a new version and
 * deletes its keys; a ticket remembers the versions it saw, so a load that
 * started before the invalidation cannot store afterwards. Records are
 * dropped as soon as no entry and no ticket refers to them, so the index
 * never outgrows the LRU (eviction and expiry run through `dispose`).
 */
import { LRUCache } from 'lru-cache';
import type { CacheStore, NewEntry, ReadResult, StoredEntry, Ticket } from './store.ts';

interface MemoryEntry extends StoredEntry {
  tags: readonly string[];
}

interface TagRecord {
  keys: Set<string>;
  version: number;
  /** Open tickets that saw this record. */
  tickets: number;
}

interface MemoryTicket {
  tags: readonly string[];
  versions: number[];
  released: boolean;
}

/** The memory store, plus what tests need to see that its index stays bounded. */
export interface MemoryStore extends CacheStore {
  readonly kind: 'memory';
  /** Tag records held (tags with live entries or open tickets). */
  readonly indexedTags: number;
  /** Whether an unexpired entry for `key` is held: a synchronous peek, without a ticket or a recency update. */
  has(key: string): boolean;
  /**
   * The unexpired entry for `key`, synchronously and without a ticket (a
   * use: it becomes the most recent). For serving a fresh entry, which needs
   * no ticket: nothing is written back. Entries are only ever stored under a
   * current ticket and invalidation deletes them at once, so what is held is
   * never older than the last invalidation of its tags.
   */
  get(key: string): StoredEntry | undefined;
}

/**
 * Heap an entry holds beyond its strings, and per tag it carries, in bytes.
 * The entry object, lru-cache's slots and Map entry, the ticket and tag
 * bookkeeping cost several times a small value's own bytes (measured in
 * docs/CACHING.md), so counting the value alone let the cache outgrow
 * CACHE_MAX_BYTES about fourfold. Rounded up: every tag is charged as if it
 * had a record of its own, and strings at two bytes a character.
 */
export const ENTRY_OVERHEAD_BYTES = 384;
export const TAG_OVERHEAD_BYTES = 384;

/**
 * The heap bytes an entry is charged: never less than it really retains.
 *
 * @example
 * entrySize('product:7', '{"id":7}', ['product:7']); // 384 + 2*(9 + 8) + 384 + 2*9 = 820
 */
export function entrySize(key: string, json: string, tags: readonly string[]): number {
  let size = ENTRY_OVERHEAD_BYTES + 2 * (key.length + json.length);
  for (const tag of tags) size += TAG_OVERHEAD_BYTES + 2 * tag.length;
  return size;
}

/**
 * Creates a store holding at most `maxBytes` of heap, as {@link entrySize}
 * counts it (conservatively: what it retains is at most that).
 *
 * @example
 * const store = createMemoryStore({ maxBytes: 64 * 1024 * 1024 });
 */
export function createMemoryStore(options: { maxBytes: number }): MemoryStore {
  const tags = new Map<string, TagRecord>();
  let sequence = 0;
  let evictions = 0;

  const lru = new LRUCache<string, MemoryEntry>({
    maxSize: options.maxBytes,
    sizeCalculation: (entry, key) => entrySize(key, entry.json, entry.tags),
    // Called for eviction, expiry, deletion and overwrite alike: the one place the index is kept in step.
    dispose: (entry, key, reason) => {
      if (reason === 'evict') evictions++;
      for (const tag of entry.tags) {
        const record = tags.get(tag);
        if (record === undefined) continue;
        record.keys.delete(key);
        dropIfUnused(tag, record);
      }
    },
  });

  function dropIfUnused(tag: string, record: TagRecord): void {
    if (record.keys.size === 0 && record.tickets === 0) tags.delete(tag);
  }

  function recordFor(tag: string): TagRecord {
    let record = tags.get(tag);
    if (record === undefined) {
      // A fresh version from one sequence: a record dropped and made again never repeats an old version.
      record = { keys: new Set(), version: ++sequence, tickets: 0 };
      tags.set(tag, record);
    }
    return record;
  }

  async function read(key: string, entryTags: readonly string[]): Promise<ReadResult> {
    const versions = entryTags.map((tag) => {
      const record = recordFor(tag);
      record.tickets++;
      return record.version;
    });
    const ticket: MemoryTicket = { tags: entryTags, versions, released: false };
    const entry = lru.get(key);
    return { entry: entry === undefined ? undefined : { json: entry.json, freshUntil: entry.freshUntil }, ticket };
  }

  async function write(key: string, entry: NewEntry, ticket: Ticket): Promise<boolean> {
    const t = ticket as MemoryTicket;
    if (t.released) return false;
    // The ticket holds its records alive, so a missing or changed record means an invalidation.
    const current = t.tags.every((tag, i) => tags.get(tag)?.version === t.versions[i]);
    if (!current) return false;
    lru.delete(key); // its old tags leave the index through dispose before the new ones go in
    const stored: MemoryEntry = { json: entry.json, freshUntil: entry.freshUntil, tags: t.tags };
    lru.set(key, stored, { ttl: Math.max(1, Math.ceil(entry.lifetimeMs)) });
    if (lru.peek(key) !== stored) return false; // larger than the whole cache: lru-cache refuses it
    for (const tag of t.tags) recordFor(tag).keys.add(key);
    return true;
  }

  function release(ticket: Ticket): void {
    const t = ticket as MemoryTicket;
    if (t.released) return;
    t.released = true;
    for (const tag of t.tags) {
      const record = tags.get(tag);
      if (record === undefined) continue;
      record.tickets--;
      dropIfUnused(tag, record);
    }
  }

  async function invalidate(invalidated: readonly string[]): Promise<void> {
    for (const tag of invalidated) {
      const record = tags.get(tag);
      if (record === undefined) continue; // no entry and no load in progress carries it
      record.version = ++sequence;
      for (const key of [...record.keys]) lru.delete(key);
      dropIfUnused(tag, record);
    }
  }

  async function invalidateAll(): Promise<void> {
    for (const record of tags.values()) record.version = ++sequence;
    lru.clear();
  }

  return {
    kind: 'memory',
    ready: true,
    read,
    write,
    release,
    invalidate,
    invalidateAll,
    ping: async () => undefined,
    has: (key) => lru.has(key),
    get: (key) => lru.get(key),
    get bytes() {
      return lru.calculatedSize;
    },
    get entries() {
      return lru.size;
    },
    get evictions() {
      return evictions;
    },
    get indexedTags() {
      return tags.size;
    },
    close: async () => {
      lru.clear();
    },
  };
}
