import { describe, expect, it } from 'vitest';
import { createBatchLoader } from '../../../src/store/batch/loader.ts';

/** A loadMany that records each batch and answers with key × 10, except keys over 100. */
function recordingLoad() {
  const batches: number[][] = [];
  return {
    batches,
    async loadMany(keys: readonly number[]): Promise<ReadonlyMap<number, number>> {
      batches.push([...keys]);
      await new Promise((r) => setTimeout(r, 5));
      return new Map(keys.filter((k) => k <= 100).map((k) => [k, k * 10]));
    },
  };
}

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('createBatchLoader', () => {
  it('answers loads made in one event-loop turn with one batch of the distinct keys', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64 });
    const values = await Promise.all([1, 2, 3, 2, 101].map((k) => loader.load(k)));
    expect(values).toEqual([10, 20, 30, 20, undefined]);
    expect(load.batches).toEqual([[1, 2, 3, 101]]);
    expect({ loads: loader.loads, batches: loader.batches }).toEqual({ loads: 5, batches: 1 });
  });

  it('splits a turn with more loads than maxBatch into several batches', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 4 });
    const keys = Array.from({ length: 10 }, (_, i) => i + 1);
    expect(await Promise.all(keys.map((k) => loader.load(k)))).toEqual(keys.map((k) => k * 10));
    expect(load.batches.map((b) => b.length)).toEqual([4, 4, 2]);
  });

  it('never joins a batch already sent: a later load gets a statement of its own, sent after it was asked', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64 });
    const first = loader.load(1);
    await nextTurn(); // the first batch is now in flight
    expect(load.batches).toEqual([[1]]);
    const second = loader.load(1);
    expect(await Promise.all([first, second])).toEqual([10, 10]);
    expect(load.batches).toEqual([[1], [1]]);
  });

  it('holds a ready batch while maxInFlight batches are out, and it keeps filling until one returns', async () => {
    const load = recordingLoad();
    const loader = createBatchLoader({ loadMany: load.loadMany, maxBatch: 64, maxInFlight: 1 });
    const first = loader.load(1);
    await nextTurn();
    const later: Promise<number | undefined>[] = [];
    for (let turn = 0; turn < 3; turn++) {
      later.push(loader.load(10 + turn), loader.load(20 + turn));
      await nextTurn();
    }
    expect(load.batches).toEqual([[1]]); // the others wait for the one out
    expect(await Promise.all([first, ...later])).toEqual([10, 100, 200, 110, 210, 120, 220]);
    expect(load.batches).toEqual([[1], [10, 20, 11, 21, 12, 22]]);
  });

  it('rejects every load of a failed batch with its error, and serves the next batch', async () => {
    let fail = true;
    const loader = createBatchLoader<number, number>({
      loadMany: async (keys) => {
        if (fail) throw new Error('connection lost');
        return new Map(keys.map((k) => [k, k]));
      },
      maxBatch: 64,
    });
    const results = await Promise.allSettled([loader.load(1), loader.load(2)]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value))).toEqual(['connection lost', 'connection lost']);
    fail = false;
    expect(await Promise.all([loader.load(3), loader.load(4)])).toEqual([3, 4]);
  });

  it('charges each batch to the distinct accounts of its loads', async () => {
    const charged: object[][] = [];
    const loader = createBatchLoader<number, number>({
      loadMany: async (keys, accounts) => {
        charged.push([...accounts]);
        return new Map(keys.map((k) => [k, k]));
      },
      maxBatch: 64,
    });
    const a = { request: 'a' };
    const b = { request: 'b' };
    const c = { request: 'c' };
    await Promise.all([loader.load(1, a), loader.load(2, b), loader.load(3, a), loader.load(4)]);
    await loader.load(9);
    // A load charged to several requests at once is spread into the same flat list.
    await Promise.all([loader.load(5, [a, c]), loader.load(6, c)]);
    expect(charged).toEqual([[a, b], [], [a, c]]);
  });
});
