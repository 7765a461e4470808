/**
 * The in-memory cache's hit path (src/cache/query-cache.ts `wrap`): a fresh
 * entry is answered without load(), a flight or a ticket, in the check phase
 * of its turn; anything else (stale, expired, invalidated, not held) takes
 * the full path. Time is Date only (fake), so freshness is exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createQueryCache, type LookupOutcome, type QueryCache } from '../../src/cache/query-cache.ts';
import { captureLogs } from '../helpers/logs.ts';
import { fakeRow, gateOf } from './helpers/waiting.ts';

const START = new Date('2026-01-01T00:00:00Z').getTime();
const opened: QueryCache[] = [];

function memoryCache(admissionThreshold?: number): QueryCache {
  const cache = createQueryCache({ enabled: true, maxBytes: 1024 * 1024, admissionThreshold }, { logger: captureLogs().logger });
  opened.push(cache);
  return cache;
}

beforeEach(() => {
  // Only Date: setImmediate (the hits' flush) and lru-cache's own clock stay real.
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(START);
});

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

describe('query cache in memory: the hit path', () => {
  const ttl = { ttlMs: 30_000, tags: ['product:1'] };

  it('answers a fresh entry without load(), reports a hit, and gives each caller its own copy', async () => {
    const cache = memoryCache();
    const row = fakeRow({ id: 1, stock: 5 });
    await cache.wrap('product:1', ttl, row.load);
    const outcomes: LookupOutcome[] = [];
    const onLookup = (outcome: LookupOutcome) => outcomes.push(outcome);
    const [a, b] = await Promise.all([
      cache.wrap('product:1', { ...ttl, onLookup }, row.load),
      cache.wrap('product:1', { ...ttl, onLookup }, row.load),
    ]);
    a.stock = 99;
    expect(b).toEqual({ id: 1, stock: 5 });
    expect(row.calls).toBe(1);
    expect(outcomes).toEqual(['hit', 'hit']);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 1, coalesced: 0 });
  });

  it("resolves a hit only in its turn's check phase, after the turn's other callbacks", async () => {
    const cache = memoryCache();
    await cache.wrap('product:1', ttl, async () => 'v1');
    const order: string[] = [];
    const hit = cache.wrap('product:1', ttl, async () => 'loaded').then((v) => order.push(`hit ${v}`));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    order.push('microtasks done');
    await new Promise((resolve) => setImmediate(resolve));
    await hit;
    expect(order).toEqual(['microtasks done', 'hit v1']);
  });

  it('serves an entry until ttlMs has passed, then loads again', async () => {
    const cache = memoryCache();
    const row = fakeRow('v1');
    await cache.wrap('product:1', ttl, row.load);
    row.value = 'v2';
    vi.setSystemTime(START + 29_999);
    expect(await cache.wrap('product:1', ttl, row.load)).toBe('v1');
    vi.setSystemTime(START + 30_000);
    expect(await cache.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(await cache.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(row.calls).toBe(2);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 2, staleHits: 0 });
  });

  it('hands a stale entry to the full path, which serves it once and starts one refresh', async () => {
    const cache = memoryCache();
    const swr = { ttlMs: 30_000, staleMs: 60_000, tags: ['report'] };
    const row = fakeRow('v1');
    await cache.wrap('report', swr, row.load);
    row.value = 'v2';
    vi.setSystemTime(START + 31_000);
    const gate = gateOf<void>();
    const refresh = async () => {
      await gate.promise;
      return row.load();
    };
    expect(await cache.wrap('report', swr, refresh)).toBe('v1');
    expect(cache.stats.staleHits).toBe(1);
    gate.open();
    await vi.waitFor(() => expect(row.calls).toBe(2));
    // The refreshed entry is fresh again, and answered by the hit path.
    await vi.waitFor(async () => expect(await cache.wrap('report', swr, row.load)).toBe('v2'));
    expect(row.calls).toBe(2);
  });

  it('a hit asked for after an invalidation resolved never sees the invalidated value', async () => {
    const cache = memoryCache();
    const row = fakeRow('v1');
    await cache.wrap('product:1', ttl, row.load);
    row.value = 'v2';
    const before = cache.wrap('product:1', ttl, row.load); // asked before the write: may answer what it read
    await cache.invalidateTags(['product:1']);
    expect(await cache.wrap('product:1', ttl, row.load)).toBe('v2');
    expect(await before).toBe('v1');
    expect(row.calls).toBe(2);
  });

  it('with admission, a held key is served on every later ask and never counted as not admitted', async () => {
    const cache = memoryCache(2);
    const row = fakeRow('v1');
    const admitted = { ...ttl, admitOnRepeat: true };
    expect(await cache.wrap('product:1', admitted, row.load)).toBe('v1'); // first sight: not stored
    expect(await cache.wrap('product:1', admitted, row.load)).toBe('v1'); // asked again: stored
    for (let i = 0; i < 5; i++) expect(await cache.wrap('product:1', admitted, row.load)).toBe('v1');
    expect(row.calls).toBe(2);
    expect(cache.stats).toMatchObject({ notAdmitted: 1, misses: 1, hits: 5, entries: 1 });
  });
});
