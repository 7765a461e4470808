/**
 * The shared store: every instance reads and invalidates the same entries.
 *
 * Tags are version keys, not sets of member keys. Invalidating a tag writes
 * it a new random version (one atomic script for all the tags of a write);
 * an entry records the versions it was loaded under and is only served while
 * they are all current. Why versions rather than sets:
 *
 * - Sets cannot close the stale-repopulate race (reader loads the old row,
 *   writer commits and deletes the set's members, reader stores the old
 *   row): the reader's key was not in the set yet. With versions, the read
 *   returns the versions *before* `load()` runs, and the write script stores
 *   only if they are unchanged — checked and set inside Redis, atomically.
 * - Invalidation is O(tags), not O(entries), and sets never grow without
 *   bound with keys that expired long ago.
 *
 * A missing version key never validates anything: a read that finds none
 * writes a fresh random one first. So a version key lost to expiry, eviction
 * or a FLUSHDB turns its entries into misses, never back into hits. Entries
 * invalidated this way stay in Redis until their PX ends; they are unreadable.
 *
 * Every entry also carries one store-wide version (`epoch`), so "forget
 * everything" is one write too (used after an outage too long to track).
 *
 * Needs a single Redis (or a primary with replicas): scripts touch several
 * keys, which Redis Cluster would need in one hash slot.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { decodeEntry, encodeEntry } from './entry-codec.ts';
import { createRedisClient } from '../redis/client.ts';
import type { CacheStore, NewEntry, ReadResult, StoreEvents, Ticket } from './store.ts';
import { withDeadline } from '../async/deadline.ts';
import type { TraceRef } from '../context/context.ts';
import type { RedisSpans } from '../telemetry/redis-spans.ts';

/** Shortest life of a tag version key; a write extends it to its entry's lifetime. */
const TAG_VERSION_TTL_MS = 60 * 60 * 1000;

/** KEYS: entry, then version keys. ARGV: token for missing versions, their PX. Returns [entry, ...versions]. */
const READ_SCRIPT = `
local out = { redis.call('GET', KEYS[1]) }
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    v = ARGV[1] .. ':' .. i
    redis.call('SET', KEYS[i], v, 'PX', ARGV[2])
  end
  out[i] = v
end
return out`;

/** KEYS: entry, then version keys. ARGV: payload, PX, then the versions the ticket saw. 1 if stored. */
const WRITE_SCRIPT = `
for i = 2, #KEYS do
  if redis.call('GET', KEYS[i]) ~= ARGV[i + 1] then return 0 end
end
local lifetime = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'PX', lifetime)
for i = 2, #KEYS do
  if redis.call('PTTL', KEYS[i]) < lifetime then redis.call('PEXPIRE', KEYS[i], lifetime) end
end
return 1`;

/** KEYS: version keys. ARGV: token, PX. Gives each a new version, all at once. */
const INVALIDATE_SCRIPT = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[1] .. ':' .. i, 'PX', ARGV[2])
end
return #KEYS`;

interface CacheScripts {
  holdfastCacheRead(numKeys: number, ...args: (string | number)[]): Promise<(string | null)[]>;
  holdfastCacheWrite(numKeys: number, ...args: (string | number)[]): Promise<number>;
  holdfastCacheInvalidate(numKeys: number, ...args: (string | number)[]): Promise<number>;
}

interface RedisTicket {
  /** Version keys, epoch first, in the order of the entry's tags. */
  versionKeys: string[];
  versions: string[];
}

/** Where the Redis store connects and how it names its keys. */
export interface RedisStoreOptions {
  url: string;
  commandTimeoutMs: number;
  /** Prepended to every key, e.g. `holdfast:cache:v1:`. */
  prefix: string;
  /** A span per command of a sampled trace (tracing on); undefined: none, at no cost. */
  spans?: RedisSpans | undefined;
}

/**
 * Creates the store and starts connecting in the background; `ready` turns
 * true (and `watch`'s `up` fires) once Redis answers.
 *
 * @example
 * const store = createRedisStore({ url: config.redis.url, commandTimeoutMs: 100, prefix: 'holdfast:cache:v1:' });
 */
export function createRedisStore(options: RedisStoreOptions): CacheStore {
  const client = createRedisClient({ url: options.url, commandTimeoutMs: options.commandTimeoutMs, connectionName: 'holdfast-cache' });
  const scripts = client as Redis & CacheScripts;
  client.defineCommand('holdfastCacheRead', { lua: READ_SCRIPT });
  client.defineCommand('holdfastCacheWrite', { lua: WRITE_SCRIPT });
  client.defineCommand('holdfastCacheInvalidate', { lua: INVALIDATE_SCRIPT });

  let events: StoreEvents | undefined;
  // An error listener must exist or ioredis prints each failed reconnect; the guard logs transitions once.
  client.on('error', (err: Error) => events?.down(err));
  client.on('close', () => events?.down(new Error('redis connection closed')));
  client.on('ready', () => events?.up());

  const entryKey = (key: string): string => `${options.prefix}e:${key}`;
  const versionKey = (tag: string): string => `${options.prefix}t:${tag}`;
  const epochKey = `${options.prefix}epoch`;
  const versionKeysOf = (tags: readonly string[]): string[] => [epochKey, ...tags.map(versionKey)];
  const { spans } = options;
  // ioredis runs a defined command as EVALSHA (EVAL once after a NOSCRIPT); the span is named for the former.
  const traced = <T>(trace: TraceRef | undefined, script: string, keys: number, run: () => Promise<T>): Promise<T> =>
    spans === undefined || trace === undefined ? run() : spans.command(trace, 'EVALSHA', script, keys, run);

  async function read(key: string, tags: readonly string[], lifetimeMs: number, trace?: TraceRef): Promise<ReadResult> {
    const versionKeys = versionKeysOf(tags);
    const ttl = Math.max(TAG_VERSION_TTL_MS, Math.ceil(lifetimeMs));
    const keys = 1 + versionKeys.length;
    const [raw, ...versions] = await traced(trace, 'holdfastCacheRead', keys, () =>
      scripts.holdfastCacheRead(keys, entryKey(key), ...versionKeys, randomUUID(), ttl),
    );
    const ticket: RedisTicket = { versionKeys, versions: versions.map(String) };
    const decoded = typeof raw === 'string' ? decodeEntry(raw) : undefined;
    // Loaded under versions that are no longer current: invalidated since, so never served.
    const valid = decoded !== undefined && decoded.versions === ticket.versions.join(' ');
    return { entry: valid ? { json: decoded.json, freshUntil: decoded.freshUntil } : undefined, ticket };
  }

  async function write(key: string, entry: NewEntry, ticket: Ticket, trace?: TraceRef): Promise<boolean> {
    const t = ticket as RedisTicket;
    const payload = encodeEntry({ freshUntil: entry.freshUntil, versions: t.versions.join(' '), json: entry.json });
    const lifetime = Math.max(1, Math.ceil(entry.lifetimeMs));
    const keys = 1 + t.versionKeys.length;
    const stored = await traced(trace, 'holdfastCacheWrite', keys, () =>
      scripts.holdfastCacheWrite(keys, entryKey(key), ...t.versionKeys, payload, lifetime, ...t.versions),
    );
    return stored === 1;
  }

  async function bump(versionKeys: string[], trace?: TraceRef): Promise<void> {
    if (versionKeys.length === 0) return;
    await traced(trace, 'holdfastCacheInvalidate', versionKeys.length, () =>
      scripts.holdfastCacheInvalidate(versionKeys.length, ...versionKeys, randomUUID(), TAG_VERSION_TTL_MS),
    );
  }

  async function close(): Promise<void> {
    events = undefined;
    try {
      await withDeadline(client.quit(), Math.max(1_000, options.commandTimeoutMs), 'quit');
    } catch {
      client.disconnect(); // not connected, or not answering: drop the socket and stop reconnecting
    }
  }

  return {
    kind: 'redis',
    get ready() {
      return client.status === 'ready';
    },
    read,
    write,
    release: () => undefined,
    invalidate: (tags, trace) => bump(tags.map(versionKey), trace),
    invalidateAll: () => bump([epochKey]),
    ping: async () => {
      await client.ping();
    },
    watch: (listeners) => {
      events = listeners;
    },
    bytes: 0,
    entries: 0,
    evictions: 0,
    close,
  };
}
