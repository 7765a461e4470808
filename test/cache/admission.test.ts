/**
 * The admission filter (src/cache/admission.ts) and its use by the query
 * cache: a key asked for once never enters the cache; a key asked for again
 * does, and is then served from it.
 */
import { describe, expect, it } from 'vitest';
import { createAdmission } from '../../src/cache/admission.ts';
import { createQueryCache } from '../../src/cache/query-cache.ts';
import { captureLogs } from '../helpers/logs.ts';
import { fakeRow } from './helpers/waiting.ts';

describe('createAdmission', () => {
  it('refuses a key on first sight and admits it when asked for again', () => {
    const admission = createAdmission({ window: 1024 });
    expect(admission.admit('product:1')).toBe(false);
    expect(admission.admit('product:1')).toBe(true);
    expect(admission.admit('product:1')).toBe(true);
    expect(admission.admit('product:2')).toBe(false);
  });

  it('a stream of distinct keys is (almost) never admitted: collisions stay rare within a window', () => {
    const admission = createAdmission({ window: 4096 });
    let admitted = 0;
    for (let i = 0; i < 4096; i++) if (admission.admit(`product:${i}`)) admitted++;
    expect(admitted).toBeLessThan(41); // under 1%
  });

  it('forgets: a key seen once, then a whole window of other keys, is first-sight again', () => {
    const admission = createAdmission({ window: 64 });
    admission.admit('cold');
    for (let i = 0; i < 64; i++) admission.admit(`other:${i}`);
    expect(admission.estimate('cold')).toBe(0);
    expect(admission.admit('cold')).toBe(false);
  });

  it('a hot key survives halving and stays admitted', () => {
    const admission = createAdmission({ window: 64 });
    for (let i = 0; i < 10; i++) admission.admit('hot');
    for (let i = 0; i < 200; i++) admission.admit(`other:${i}`); // three halvings
    expect(admission.admit('hot')).toBe(true);
  });

  it('the threshold sets how many requests earn admission', () => {
    const admission = createAdmission({ window: 1024, threshold: 3 });
    expect([admission.admit('k'), admission.admit('k'), admission.admit('k')]).toEqual([false, false, true]);
  });
});

describe('query cache with admitOnRepeat (threshold 2: admitted when asked for again)', () => {
  const options = { ttlMs: 60_000, tags: ['product:1'], admitOnRepeat: true };

  it('a one-hit key never reaches the store; a repeated key is stored and then served from the cache', async () => {
    const cache = createQueryCache({ enabled: true, maxBytes: 1024 * 1024, admissionThreshold: 2 }, { logger: captureLogs().logger });
    try {
      const once = fakeRow({ id: 2 });
      expect(await cache.wrap('product:2', { ...options, tags: ['product:2'] }, once.load)).toEqual({ id: 2 });
      expect(cache.stats).toMatchObject({ notAdmitted: 1, misses: 0, hits: 0, entries: 0 });

      const hot = fakeRow({ id: 1, stock: 5 });
      await cache.wrap('product:1', options, hot.load); // first sight: not admitted
      await cache.wrap('product:1', options, hot.load); // asked again: admitted, loaded and stored
      expect(await cache.wrap('product:1', options, hot.load)).toEqual({ id: 1, stock: 5 });
      expect(await cache.wrap('product:1', options, hot.load)).toEqual({ id: 1, stock: 5 });
      expect(hot.calls).toBe(2);
      expect(cache.stats).toMatchObject({ notAdmitted: 2, misses: 1, hits: 2, entries: 1 });
    } finally {
      await cache.close();
    }
  });

  it('a key already cached is served from the cache even after the sketch has forgotten it', async () => {
    const cache = createQueryCache(
      { enabled: true, maxBytes: 1024 * 1024, admissionThreshold: 2 },
      { logger: captureLogs().logger, admissionWindow: 16 },
    );
    try {
      const hot = fakeRow({ id: 1 });
      await cache.wrap('product:1', options, hot.load);
      await cache.wrap('product:1', options, hot.load); // admitted and stored
      for (let i = 100; i < 200; i++) await cache.wrap(`product:${i}`, { ...options, tags: [`product:${i}`] }, fakeRow({ id: i }).load);
      expect(await cache.wrap('product:1', options, hot.load)).toEqual({ id: 1 });
      expect(hot.calls).toBe(2);
      expect(cache.stats.hits).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('without admitOnRepeat the first read is cached, as before', async () => {
    const cache = createQueryCache({ enabled: true, maxBytes: 1024 * 1024 }, { logger: captureLogs().logger });
    try {
      const row = fakeRow({ id: 3 });
      await cache.wrap('product:3', { ttlMs: 60_000, tags: ['product:3'] }, row.load);
      await cache.wrap('product:3', { ttlMs: 60_000, tags: ['product:3'] }, row.load);
      expect(row.calls).toBe(1);
      expect(cache.stats.notAdmitted).toBe(0);
    } finally {
      await cache.close();
    }
  });
});

describe('CACHE_ADMISSION_THRESHOLD', () => {
  it('1 turns admission off: the first read of an admitOnRepeat key is cached', async () => {
    const cache = createQueryCache({ enabled: true, maxBytes: 1024 * 1024, admissionThreshold: 1 }, { logger: captureLogs().logger });
    try {
      const row = fakeRow({ id: 4 });
      const options = { ttlMs: 60_000, tags: ['product:4'], admitOnRepeat: true };
      await cache.wrap('product:4', options, row.load);
      await cache.wrap('product:4', options, row.load);
      expect(row.calls).toBe(1);
      expect(cache.stats.notAdmitted).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it('3 asks for a third request before caching', async () => {
    const cache = createQueryCache({ enabled: true, maxBytes: 1024 * 1024, admissionThreshold: 3 }, { logger: captureLogs().logger });
    try {
      const row = fakeRow({ id: 5 });
      const options = { ttlMs: 60_000, tags: ['product:5'], admitOnRepeat: true };
      for (let i = 0; i < 4; i++) await cache.wrap('product:5', options, row.load);
      expect(row.calls).toBe(3);
      expect(cache.stats).toMatchObject({ notAdmitted: 2, misses: 1, hits: 1 });
    } finally {
      await cache.close();
    }
  });
});
