/**
 * The memory store: byte bound with counted evictions, expiry, version
 * checks on write, and a tag index that shrinks with the LRU.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, entrySize } from '../../src/cache/memory-store.ts';
import { sleep } from './helpers/waiting.ts';

const entry = (json: string, lifetimeMs = 60_000) => ({ json, freshUntil: Date.now() + lifetimeMs, lifetimeMs });

async function put(
  store: ReturnType<typeof createMemoryStore>,
  key: string,
  tags: string[],
  json: string,
  lifetimeMs?: number,
): Promise<boolean> {
  const { ticket } = await store.read(key, tags, 60_000);
  try {
    return await store.write(key, entry(json, lifetimeMs), ticket);
  } finally {
    store.release(ticket);
  }
}

describe('memory store', () => {
  it('stays within maxBytes, counts each eviction, and drops evicted keys from the tag index', async () => {
    const store = createMemoryStore({ maxBytes: 40_000 });
    const value = JSON.stringify('x'.repeat(490));
    for (let i = 0; i < 100; i++)
      expect(await put(store, `key:${String(i).padStart(3, '0')}`, [`tag:${String(i).padStart(3, '0')}`, 'all'], value)).toBe(true);

    const each = entrySize('key:000', value, ['tag:000', 'all']);
    expect(store.bytes).toBeLessThanOrEqual(40_000);
    expect(store.bytes).toBeGreaterThan(40_000 - each);
    expect(store.entries).toBe(Math.floor(40_000 / each));
    expect(store.evictions).toBe(100 - store.entries);
    // One record per surviving key's own tag, plus 'all': evicted keys left the index.
    expect(store.indexedTags).toBe(store.entries + 1);
    // The oldest went first.
    expect((await store.read('key:000', [], 1)).entry).toBeUndefined();
    expect((await store.read('key:099', [], 1)).entry?.json).toBe(value);
  });

  it('refuses an entry larger than the whole store without leaving it in the index', async () => {
    const store = createMemoryStore({ maxBytes: 100 });
    expect(await put(store, 'big', ['t'], JSON.stringify('y'.repeat(200)))).toBe(false);
    expect(store.entries).toBe(0);
    expect(store.indexedTags).toBe(0);
  });

  it('expires an entry after its lifetime and drops it from the index when found expired', async () => {
    const store = createMemoryStore({ maxBytes: 10_000 });
    await put(store, 'k', ['t'], '"v"', 40);
    expect((await store.read('k', [], 1)).entry?.json).toBe('"v"');
    await sleep(70);
    expect((await store.read('k', [], 1)).entry).toBeUndefined();
    expect(store.entries).toBe(0);
    expect(store.indexedTags).toBe(0);
  });

  it('invalidation deletes tagged entries at once and refuses writes from tickets read before it', async () => {
    const store = createMemoryStore({ maxBytes: 10_000 });
    await put(store, 'a', ['product:1'], '"a"');
    await put(store, 'b', ['product:2'], '"b"');
    const { ticket } = await store.read('c', ['product:1'], 60_000);
    await store.invalidate(['product:1']);
    expect(store.entries).toBe(1);
    expect((await store.read('b', [], 1)).entry?.json).toBe('"b"');
    expect(await store.write('c', entry('"stale"'), ticket)).toBe(false);
    store.release(ticket);
    expect(store.indexedTags).toBe(1); // only product:2 remains
  });

  it('a released ticket cannot write, and releasing twice is harmless', async () => {
    const store = createMemoryStore({ maxBytes: 10_000 });
    const { ticket } = await store.read('k', ['t'], 60_000);
    store.release(ticket);
    store.release(ticket);
    expect(store.indexedTags).toBe(0);
    expect(await store.write('k', entry('"v"'), ticket)).toBe(false);
  });

  it('overwriting a key with other tags moves it in the index', async () => {
    const store = createMemoryStore({ maxBytes: 10_000 });
    await put(store, 'k', ['old'], '"1"');
    await put(store, 'k', ['new'], '"2"');
    await store.invalidate(['old']);
    expect((await store.read('k', [], 1)).entry?.json).toBe('"2"');
    await store.invalidate(['new']);
    expect((await store.read('k', [], 1)).entry).toBeUndefined();
    expect(store.indexedTags).toBe(0);
  });

  it('invalidateAll empties the store and refuses open tickets', async () => {
    const store = createMemoryStore({ maxBytes: 10_000 });
    await put(store, 'a', ['t'], '"a"');
    const { ticket } = await store.read('b', ['u'], 60_000);
    await store.invalidateAll();
    expect(store.entries).toBe(0);
    expect(await store.write('b', entry('"b"'), ticket)).toBe(false);
    store.release(ticket);
  });
});

describe('memory store byte count against the real heap', () => {
  // A forced GC before each reading, so the growth is what the store retains.
  v8.setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heapUsed = () => {
    gc();
    gc();
    return v8.getHeapStatistics().used_heap_size;
  };

  it.each([
    [
      'small product entries, one tag of their own each',
      (i: number) => ({ key: `product:${i}`, tags: [`product:${i}`], json: `{"id":${i},"sku":"S-${i}","stock":${i % 100}}` }),
    ],
    [
      'small list entries sharing one tag',
      (i: number) => ({ key: `products:list:["general",${i},20]`, tags: ['products:list'], json: `{"items":[],"next":${i}}` }),
    ],
  ])('counts at least the heap it grows by: %s', async (_name, make) => {
    const n = 20_000;
    const store = createMemoryStore({ maxBytes: 1024 * 1024 * 1024 });
    const before = heapUsed();
    for (let i = 0; i < n; i++) {
      const { key, tags, json } = make(i);
      expect(await put(store, key, tags, json)).toBe(true);
    }
    const grown = heapUsed() - before;
    expect(store.entries).toBe(n);
    expect(store.bytes).toBeGreaterThanOrEqual(grown);
  });
});
