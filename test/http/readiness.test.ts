import { describe, expect, it } from 'vitest';
import { createReadinessCheck } from '../../src/http/readiness.ts';
import type { Queryable } from '../../src/db/types.ts';

/** A fake database whose answers the test controls. */
function fakeDb() {
  const calls: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  const db: Queryable = {
    query: () =>
      new Promise((resolve, reject) => {
        calls.push({ resolve: () => resolve({ rows: [], rowCount: 1 }), reject });
      }) as never,
  };
  return { db, calls };
}

describe('readiness check', () => {
  it('is ready after a successful round trip and caches it', async () => {
    let now = 0;
    const { db, calls } = fakeDb();
    const check = createReadinessCheck({ db, isShuttingDown: () => false, now: () => now });
    const first = check();
    calls[0]!.resolve();
    expect(await first).toEqual({ ready: true });
    now = 999;
    expect(await check()).toEqual({ ready: true });
    expect(calls).toHaveLength(1);
    now = 1000;
    const again = check();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve();
    expect((await again).ready).toBe(true);
  });

  it('shares one query between concurrent probes', async () => {
    const { db, calls } = fakeDb();
    const check = createReadinessCheck({ db, isShuttingDown: () => false });
    const probes = Array.from({ length: 50 }, () => check());
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    expect((await Promise.all(probes)).every((r) => r.ready)).toBe(true);
  });

  it('is not ready when the query fails, without exposing the driver message', async () => {
    const { db, calls } = fakeDb();
    const check = createReadinessCheck({ db, isShuttingDown: () => false });
    const probe = check();
    calls[0]!.reject(new Error('password authentication failed for user "app"'));
    const result = await probe;
    expect(result.ready).toBe(false);
    expect(result.reason).not.toMatch(/password/);
  });

  it('gives up after the timeout and starts no new query until the stuck one settles', async () => {
    let now = 0;
    const { db, calls } = fakeDb();
    const check = createReadinessCheck({ db, isShuttingDown: () => false, timeoutMs: 20, cacheMs: 0, now: () => now++ });
    expect(await check()).toMatchObject({ ready: false, reason: expect.stringMatching(/20 ms/) });
    expect(await check()).toMatchObject({ ready: false, reason: expect.stringMatching(/not finished/) });
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await new Promise((r) => setImmediate(r));
    const next = check();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve();
    expect((await next).ready).toBe(true);
  });

  it('is not ready while shutting down, without asking the database', async () => {
    const { db, calls } = fakeDb();
    const check = createReadinessCheck({ db, isShuttingDown: () => true });
    expect(await check()).toMatchObject({ ready: false, reason: expect.stringMatching(/shutting down/) });
    expect(calls).toHaveLength(0);
  });
});
