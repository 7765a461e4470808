/**
 * The query cache's behaviour, the same in both stores: read-through,
 * single-flight, TTL, stale-while-revalidate, invalidation by tag and the
 * invalidate-vs-repopulate race. Then what only one store has: the byte
 * bound (memory) and sharing between instances (Redis).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createQueryCache, type QueryCache } from '../../src/cache/query-cache.ts';
import { captureLogs } from '../helpers/logs.ts';
import { rawClient, sharedRedisUrl } from '../helpers/redis-server.ts';
import { deleteByPrefix, uniquePrefix } from './helpers/redis.ts';
import { fakeRow, gateOf, sleep, waitFor } from './helpers/waiting.ts';

const redisUrl = await sharedRedisUrl('the Redis cache tests');
const settings = { enabled: true, maxBytes: 1024 * 1024 };
const opened: QueryCache[] = [];
const prefixes: string[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  if (redisUrl !== undefined) await Promise.all(prefixes.splice(0).map((p) => deleteByPrefix(redisUrl, p)));
});

/** Opens caches of one kind; instances from one `caches()` share a Redis prefix. */
function caches(kind: 'memory' | 'redis'): () => Promise<QueryCache> {
  const prefix = uniquePrefix();
  prefixes.push(prefix);
  return async () => {
    const cache = createQueryCache(settings, {
      logger: captureLogs().logger,
      redis: kind === 'redis' ? { url: redisUrl, commandTimeoutMs: 500 } : undefined,
      prefix,
    });
    opened.push(cache);
    await waitFor(() => cache.stats.mode === kind, `${kind} mode`);
    return cache;
  };
}

const kinds = [
  { kind: 'memory' as const, skip: false },
  { kind: 'redis' as const, skip: redisUrl === undefined },
];

describe.each(kinds)('query cache in $kind', ({ kind, skip }) => {
  const ttl = { ttlMs: 60_000, tags: ['product:1'] };

  it.skipIf(skip)('reads through: the first call loads, the next ones hit', async () => {
    const cache = await caches(kind)();
    const row = fakeRow({ id: 1, stock: 5 });
    expect(await cache.wrap('product:1', ttl, row.load)).toEqual({ id: 1, stock: 5 });
    expect(await cache.wrap('product:1', ttl, row.load)).toEqual({ id: 1, stock: 5 });
    expect(row.calls).toBe(1);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 1, errors: 0, mode: kind });
  });

  it.skipIf(skip)('100 concurrent misses for one key run load() once and each caller gets its own copy', async () => {
    const cache = await caches(kind)();
    const gate = gateOf<{ stock: number }>();
    let loads = 0;
    const load = () => {
      loads++;
      return gate.promise;
    };
    const pending = Array.from({ length: 100 }, () => cache.wrap('product:1', ttl, load));
    await sleep(20);
    gate.open({ stock: 3 });
    const values = await Promise.all(pending);
    expect(loads).toBe(1);
    expect(values.every((v) => v.stock === 3)).toBe(true);
    values[0]!.stock = 99;
    expect(values[1]!.stock).toBe(3);
    expect(cache.stats).toMatchObject({ misses: 1, coalesced: 99 });
  });

  it.skipIf(skip)("stops a joiner's wait at its own deadline, while the leader's load goes on for the others", async () => {
    const cache = await caches(kind)();
    const gate = gateOf<{ stock: number }>();
    const leader = cache.wrap('product:1', ttl, () => gate.promise);
    const patient = cache.wrap('product:1', { ...ttl, signal: new AbortController().signal }, () => gate.promise);
    const deadline = new AbortController();
    const hurried = cache.wrap('product:1', { ...ttl, signal: deadline.signal }, () => gate.promise);
    deadline.abort(new Error('deadline'));
    await expect(hurried).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    gate.open({ stock: 4 });
    expect(await leader).toEqual({ stock: 4 });
    expect(await patient).toEqual({ stock: 4 });
  });

  it.skipIf(skip)('shares a load error with concurrent callers and does not cache it', async () => {
    const cache = await caches(kind)();
    let loads = 0;
    const failing = async () => {
      loads++;
      await sleep(10);
      throw new Error('db down');
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => cache.wrap('k', ttl, failing)));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'db down')).toBe(true);
    expect(loads).toBe(1);
    expect(await cache.wrap('k', ttl, async () => 'ok')).toBe('ok');
  });

  it.skipIf(skip)('expires an entry after ttlMs', async () => {
    const cache = await caches(kind)();
    const row = fakeRow('v1');
    const short = { ttlMs: 250, tags: [] };
    expect(await cache.wrap('k', short, row.load)).toBe('v1');
    row.value = 'v2';
    expect(await cache.wrap('k', short, row.load)).toBe('v1');
    await sleep(300);
    expect(await cache.wrap('k', short, row.load)).toBe('v2');
    expect(row.calls).toBe(2);
  });

  it.skipIf(skip)('invalidating a tag reloads the entries carrying it and no others', async () => {
    const cache = await caches(kind)();
    const one = fakeRow('one-v1');
    const two = fakeRow('two-v1');
    const list = fakeRow(['one-v1', 'two-v1']);
    await cache.wrap('product:1', { ttlMs: 60_000, tags: ['product:1'] }, one.load);
    await cache.wrap('product:2', { ttlMs: 60_000, tags: ['product:2'] }, two.load);
    await cache.wrap('list', { ttlMs: 60_000, tags: ['products:list'] }, list.load);
    one.value = 'one-v2';
    list.value = ['one-v2', 'two-v1'];
    await cache.invalidateTags(['product:1', 'products:list']);
    expect(await cache.wrap('product:1', { ttlMs: 60_000, tags: ['product:1'] }, one.load)).toBe('one-v2');
    expect(await cache.wrap('product:2', { ttlMs: 60_000, tags: ['product:2'] }, two.load)).toBe('two-v1');
    expect(await cache.wrap('list', { ttlMs: 60_000, tags: ['products:list'] }, list.load)).toEqual(['one-v2', 'two-v1']);
    expect([one.calls, two.calls, list.calls]).toEqual([2, 1, 2]);
  });

  it.skipIf(skip)('a reader that loaded before a write never stores its old row after the invalidation', async () => {
    const cache = await caches(kind)();
    const slow = gateOf<string>();
    // Reader: misses, its query reads the old row and is slow to return.
    const reader = cache.wrap('product:1', ttl, () => slow.promise);
    await sleep(20);
    // Writer: commits, then invalidates; its client reads at once and must not join the old load.
    await cache.invalidateTags(['product:1']);
    expect(await cache.wrap('product:1', ttl, async () => 'new')).toBe('new');
    // The reader's query returns the old row only now, after the new one was cached.
    slow.open('old');
    expect(await reader).toBe('old'); // its own answer predates the write
    expect(await cache.wrap('product:1', ttl, async () => 'reloaded')).toBe('new');
  });

  it.skipIf(skip)('a reader that loaded before a write leaves nothing behind for the next reader', async () => {
    const cache = await caches(kind)();
    const slow = gateOf<string>();
    const reader = cache.wrap('product:1', ttl, () => slow.promise);
    await sleep(20);
    await cache.invalidateTags(['product:1']);
    slow.open('old');
    expect(await reader).toBe('old');
    expect(await cache.wrap('product:1', ttl, async () => 'new')).toBe('new');
  });

  it.skipIf(skip)('serves an expired entry within staleMs while one background refresh runs', async () => {
    const cache = await caches(kind)();
    const swr = { ttlMs: 300, staleMs: 5_000, tags: ['report'] };
    const row = fakeRow('v1');
    await cache.wrap('report', swr, row.load);
    row.value = 'v2';
    await sleep(350);
    const gate = gateOf<void>();
    const slowLoad = async () => {
      await gate.promise;
      return row.load();
    };
    expect(await cache.wrap('report', swr, slowLoad)).toBe('v1');
    expect(await cache.wrap('report', swr, slowLoad)).toBe('v1'); // refresh still running: no second one
    gate.open();
    await waitFor(() => row.calls === 2, 'the refresh');
    await sleep(30); // its write
    expect(await cache.wrap('report', swr, row.load)).toBe('v2');
    expect(row.calls).toBe(2);
    expect(cache.stats.staleHits).toBe(2);
  });

  it.skipIf(skip)('never serves an invalidated entry stale', async () => {
    const cache = await caches(kind)();
    const swr = { ttlMs: 50, staleMs: 5_000, tags: ['product:1'] };
    const row = fakeRow('v1');
    await cache.wrap('product:1', swr, row.load);
    row.value = 'v2';
    await cache.invalidateTags(['product:1']);
    await sleep(80);
    expect(await cache.wrap('product:1', swr, row.load)).toBe('v2');
  });

  it.skipIf(skip)('passes undefined through without caching it', async () => {
    const cache = await caches(kind)();
    const row = fakeRow<string | undefined>(undefined);
    expect(await cache.wrap('product:404', ttl, row.load)).toBeUndefined();
    row.value = 'created';
    expect(await cache.wrap('product:404', ttl, row.load)).toBe('created');
  });

  it.skipIf(skip)('rejects a bad ttl as a programming error', async () => {
    const cache = await caches(kind)();
    await expect(cache.wrap('k', { ttlMs: 0, tags: [] }, async () => 1)).rejects.toThrow(RangeError);
    await expect(cache.wrap('k', { ttlMs: 10, staleMs: -1, tags: [] }, async () => 1)).rejects.toThrow(RangeError);
  });
});

describe('query cache in memory: byte bound', () => {
  it('holds at most maxBytes and counts every eviction', async () => {
    const cache = createQueryCache({ enabled: true, maxBytes: 20_000 }, { logger: captureLogs().logger });
    opened.push(cache);
    const kilobyte = 'x'.repeat(1_000);
    for (let i = 0; i < 200; i++) await cache.wrap(`k${i}`, { ttlMs: 60_000, tags: [`t${i}`] }, async () => kilobyte);
    expect(cache.stats.bytes).toBeLessThanOrEqual(20_000);
    expect(cache.stats.entries).toBeGreaterThan(0);
    expect(cache.stats.evictions).toBe(200 - cache.stats.entries);
    expect(cache.stats.evictions).toBeGreaterThan(150);
  });
});

describe('query cache disabled', () => {
  it('calls load() every time and reports bypass', async () => {
    const cache = createQueryCache({ enabled: false, maxBytes: 1_000 }, { logger: captureLogs().logger });
    opened.push(cache);
    const row = fakeRow('v');
    await cache.wrap('k', { ttlMs: 60_000, tags: [] }, row.load);
    await cache.wrap('k', { ttlMs: 60_000, tags: [] }, row.load);
    await cache.invalidateTags(['t']);
    expect(row.calls).toBe(2);
    expect(cache.stats).toMatchObject({ mode: 'bypass', bypassed: 2, hits: 0 });
  });
});

describe.skipIf(redisUrl === undefined)('query cache in redis: shared by instances', () => {
  const ttl = { ttlMs: 60_000, tags: ['product:1'] };

  it('an entry loaded by one instance is a hit on another, and an invalidation by either reaches both', async () => {
    const open = caches('redis');
    const a = await open();
    const b = await open();
    const row = fakeRow('v1');
    expect(await a.wrap('product:1', ttl, row.load)).toBe('v1');
    expect(await b.wrap('product:1', ttl, row.load)).toBe('v1');
    expect(row.calls).toBe(1);
    row.value = 'v2';
    await b.invalidateTags(['product:1']);
    expect(await a.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(await b.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(row.calls).toBe(2);
  });

  it('a slow reader on one instance cannot store its old row after another instance invalidated', async () => {
    const open = caches('redis');
    const reader = await open();
    const writer = await open();
    const slow = gateOf<string>();
    const pending = reader.wrap('product:1', ttl, () => slow.promise);
    await sleep(30);
    await writer.invalidateTags(['product:1']);
    slow.open('old');
    expect(await pending).toBe('old');
    // Refused by the write script, not merely ignored on read.
    const raw = rawClient(redisUrl!);
    await raw.connect();
    try {
      expect(await raw.get(`${prefixes.at(-1)!}e:product:1`)).toBeNull();
    } finally {
      raw.disconnect();
    }
    expect(await writer.wrap('product:1', ttl, async () => 'new')).toBe('new');
    expect(await reader.wrap('product:1', ttl, async () => 'other')).toBe('new');
  });

  it('an entry whose tag version key is lost (evicted, flushed) becomes a miss, never an old hit', async () => {
    const open = caches('redis');
    const cache = await open();
    const prefix = prefixes.at(-1)!;
    const row = fakeRow('v1');
    await cache.wrap('product:1', ttl, row.load);
    const raw = rawClient(redisUrl!);
    await raw.connect();
    try {
      await raw.del(`${prefix}t:product:1`);
    } finally {
      raw.disconnect();
    }
    row.value = 'v2';
    expect(await cache.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(await cache.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(row.calls).toBe(2);
  });

  it('treats an entry it cannot decode as a miss', async () => {
    const open = caches('redis');
    const cache = await open();
    const prefix = prefixes.at(-1)!;
    const raw = rawClient(redisUrl!);
    await raw.connect();
    try {
      await raw.set(`${prefix}e:k`, 'not an entry', 'PX', 60_000);
    } finally {
      raw.disconnect();
    }
    expect(await cache.wrap('k', ttl, async () => 'loaded')).toBe('loaded');
    expect(cache.stats.errors).toBe(0);
  });
});
