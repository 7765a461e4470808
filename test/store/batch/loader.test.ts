import { describe, expect, it } from 'vitest';
import { requestContext, type Context } from '../../../src/context/context.ts';
import { CLIENT_GONE } from '../../../src/context/deadline.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { createBatchLoader } from '../../../src/store/batch/loader.ts';
import { TEST, testContext } from '../../helpers/context.ts';

/** A loadMany that records each batch and answers with key × 10, except keys over 100. */
function recordingLoad() {
  const batches: number[][] = [];
  return {
    batches,
    async loadMany(_ctxs: readonly Context[], keys: readonly number[]): Promise<ReadonlyMap<number, number>> {
      batches.push([...keys]);
      await new Promise((r) => setTimeout(r, 5));
      return new Map(keys.filter((k) => k <= 100).map((k) => [k, k * 10]));
    },
  };
}

/** Like recordingLoad, but each batch returns only when the test calls `release()`: no timer decides the order. */
function gatedLoad() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  return {
    batches,
    release: () => gates.shift()?.(),
    async loadMany(_ctxs: readonly Context[], keys: readonly number[]): Promise<ReadonlyMap<number, number>> {
      batches.push([...keys]);
      await new Promise<void>((r) => gates.push(r));
      return new Map(keys.map((k) => [k, k * 10]));
    },
  };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('createBatchLoader', () => {
  it('drops the place of a load whose request was abandoned before the batch went: the batch runs for the others', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64 });
    const gone = new AbortController();
    const leaving = requestContext('gone', 'TEST /batch', { signal: gone.signal });
    const staying = loader.load(TEST, 1);
    const left = loader.load(leaving, 2).catch((e: unknown) => e);
    gone.abort(CLIENT_GONE);
    expect(await staying).toBe(10);
    expect(isAppError(await left, 'DEADLINE_EXCEEDED')).toBe(true);
    expect(load.batches).toEqual([[1]]);
  });

  it('answers loads made in one event-loop turn with one batch of the distinct keys', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64 });
    const values = await Promise.all([1, 2, 3, 2, 101].map((k) => loader.load(TEST, k)));
    expect(values).toEqual([10, 20, 30, 20, undefined]);
    expect(load.batches).toEqual([[1, 2, 3, 101]]);
    expect({ loads: loader.loads, batches: loader.batches }).toEqual({ loads: 5, batches: 1 });
  });

  it('splits a turn with more loads than maxBatch into several batches', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 4 });
    const keys = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(await Promise.all(keys.map((k) => loader.load(TEST, k)))).toEqual(keys.map((k) => k * 10));
    expect(load.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('never joins a batch already sent: a later load gets a statement of its own, sent after it was asked', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64 });
    const first = loader.load(TEST, 1);
    await nextTurn(); // the first batch is now in flight
    expect(load.batches).toEqual([[1]]);
    const second = loader.load(TEST, 1);
    expect(await Promise.all([first, second])).toEqual([10, 10]);
    expect(load.batches).toEqual([[1], [1]]);
  });

  it('holds a ready batch while maxInFlight batches are out, and it keeps filling until one returns', async () => {
    // The first batch stays out until released (a 5 ms timer here once let it return mid-test on a loaded machine).
    const load = gatedLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64, maxInFlight: 1 });
    const first = loader.load(TEST, 1);
    await nextTurn();
    const later: Promise<number | undefined>[] = [];
    for (let turn = 0; turn < 3; turn++) {
      later.push(loader.load(TEST, 10 + turn), loader.load(TEST, 20 + turn));
      await nextTurn();
    }
    expect(load.batches).toEqual([[1]]); // the others wait for the one out
    load.release();
    expect(await first).toBe(10);
    for (let turn = 0; turn < 10 && load.batches.length < 2; turn++) await nextTurn();
    expect(load.batches).toEqual([[1], [10, 20, 11, 21, 12, 22]]);
    load.release();
    expect(await Promise.all(later)).toEqual([100, 200, 110, 210, 120, 220]);
  });

  it('rejects every load of a failed batch with its error, and serves the next batch', async () => {
    let fail = true;
    const loader = createBatchLoader<number, number>({
      loadMany: async (_ctxs, keys) => {
        if (fail) throw new Error('connection lost');
        return new Map(keys.map((k) => [k, k]));
      },
      maxBatch: 64,
    });
    const results = await Promise.allSettled([loader.load(TEST, 1), loader.load(TEST, 2)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value))).toEqual([
      'connection lost',
      'connection lost',
    ]);
    fail = false;
    expect(await Promise.all([loader.load(TEST, 3), loader.load(TEST, 4)])).toEqual([3, 4]);
  });

  it('hands each batch the distinct contexts of its loads, each once', async () => {
    const handed: (readonly Context[])[] = [];
    const loader = createBatchLoader<number, number>({
      loadMany: async (ctxs, keys) => {
        handed.push(ctxs);
        return new Map(keys.map((k) => [k, k]));
      },
      maxBatch: 64,
    });
    const a = testContext();
    const b = testContext();
    await Promise.all([loader.load(a, 1), loader.load(b, 2), loader.load(a, 3), loader.load(a, 1)]);
    await loader.load(b, 9);
    expect(handed).toEqual([[a, b], [b]]);
  });

  it('tells each batch when its oldest load was asked for, so its wait for a turn counts against the pool timeout', async () => {
    const since: number[] = [];
    let release: (() => void) | undefined;
    const loader = createBatchLoader<number, number>({
      loadMany: async (_ctxs, keys, waitingSince) => {
        since.push(waitingSince);
        if (since.length === 1) await new Promise<void>((r) => (release = r));
        return new Map(keys.map((k) => [k, k]));
      },
      maxBatch: 64,
      maxInFlight: 1,
    });
    const first = loader.load(TEST, 1);
    await nextTurn(); // the first batch is out, and holds the only turn
    const beforeSecond = performance.now();
    const later = [loader.load(TEST, 2)];
    const afterSecond = performance.now();
    await nextTurn();
    later.push(loader.load(TEST, 3)); // a later turn, same waiting batch
    await nextTurn();
    release!();
    expect(await Promise.all([first, ...later])).toEqual([1, 2, 3]);
    expect(since).toHaveLength(2);
    // The waiting batch counts from its oldest load (2), not from when it got its turn.
    expect(since[1]).toBeGreaterThanOrEqual(beforeSecond);
    expect(since[1]).toBeLessThanOrEqual(afterSecond);
  });
});
