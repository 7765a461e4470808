/**
 * Point reads from concurrent requests, sent as one statement.
 *
 * Why: under load most of the cost of `GET /api/products/:id` is per
 * statement, not per row: the pool lease, pg's Bind/Describe/Execute/Sync
 * round trip with its two syscalls, the result parser set up per
 * RowDescription, the profiler's bookkeeping, and Postgres's own executor
 * start-up. Fifty requests arriving together can share one
 * `WHERE id = ANY($1)` instead of queueing for fifty (docs/BENCHMARKS.md has
 * the measurement).
 *
 * Built on DataLoader, with two settings that make it safe across requests:
 *  - `cache: false`: a load is never answered from memory. Each batch is
 *    sent after every load in it was asked for, and loads only join a batch
 *    that has not been sent yet (never one in flight), so a read always sees
 *    writes that committed before its request arrived.
 *  - Scheduling by the database's pace, not by a timer. DataLoader's
 *    default dispatches at the end of the current tick, which in Node's HTTP
 *    server is one request. Here a batch is sent in the check phase
 *    (`setImmediate`, after every socket readable in this event-loop turn
 *    was handled) when fewer than `maxInFlight` batches are out; otherwise
 *    it keeps filling until one comes back. Batches grow with load, and at
 *    low load a get is a batch of one with no timer delay. The wait for a
 *    slot is part of the wait for a connection: `loadMany` is told when the
 *    batch's oldest load was asked for, and the pool's timeout counts from
 *    then, so a load never waits longer than DB_POOL_TIMEOUT for its
 *    connection, its turn included (without this, a turn held by batches
 *    waiting out their own timeout doubled it).
 *
 * Each load names the context it is for (src/context/context.ts);
 * `loadMany` gets the contexts of every load in the batch and runs its one
 * statement under their `batchContext`, so each request is still charged
 * for the statement it waited on.
 *
 * @example
 * const loader = createBatchLoader<number, Product>({ loadMany: (ctxs, ids) => getMany(ctxs, ids), maxBatch: 64 });
 * const [a, b] = await Promise.all([loader.load(ctxA, 1), loader.load(ctxB, 2)]); // one statement
 */
import { abortedError } from '../../context/deadline.ts';
import DataLoader from 'dataloader';
import type { Context } from '../../context/context.ts';

export interface BatchLoaderOptions<K, V> {
  /**
   * Reads every key in one statement, run under `batchContext(ctxs)`; a key
   * missing from the map has no value. `ctxs` holds each load's context once.
   * `waitingSince` (performance.now() ms) is when the batch's oldest load was
   * asked for: its wait for a turn is part of its wait for a connection.
   */
  loadMany(ctxs: readonly Context[], keys: readonly K[], waitingSince: number): Promise<ReadonlyMap<K, V>>;
  /** Most keys in one statement; more loads in one turn make several batches. */
  maxBatch: number;
  /**
   * Batches out at once; later ones fill up until one returns. Default 4:
   * enough to keep the database busy while the next batch fills, and few
   * enough that waiting loads join a batch instead of each taking a connection.
   */
  maxInFlight?: number;
}

export interface BatchLoader<K, V> {
  /** The value for `key`, or undefined when it has none. Rejects when its batch fails. */
  load(ctx: Context, key: K): Promise<V | undefined>;
  /** Loads asked for since start. */
  readonly loads: number;
  /** Statements sent for them. */
  readonly batches: number;
}

interface Entry<K> {
  ctx: Context;
  key: K;
  /** performance.now() when it was asked for. */
  askedAt: number;
}

/**
 * @example
 * const loader = createBatchLoader({ loadMany: getMany, maxBatch: 64 });
 * await loader.load(ctx, 7);
 */
export function createBatchLoader<K, V>(options: BatchLoaderOptions<K, V>): BatchLoader<K, V> {
  const { loadMany } = options;
  const maxInFlight = options.maxInFlight ?? 4;
  let loads = 0;
  let batches = 0;
  let inFlight = 0;
  /** Batches ready to go, oldest first, each still taking loads until sent. */
  const waiting: (() => void)[] = [];

  // DataLoader calls this synchronously from `dispatch`, so `inFlight` is
  // counted before the next scheduled batch looks at it.
  async function loadBatch(entries: readonly Entry<K>[]): Promise<(V | undefined | Error)[]> {
    // A load whose request was abandoned (client gone, deadline passed) loses its place: the batch runs for the others.
    const live = entries.filter((e) => !e.ctx.signal.aborted);
    if (live.length === 0) return entries.map((e) => abortedError(e.ctx.signal, 'waiting for a batched read'));
    batches++;
    inFlight++;
    try {
      const keys = [...new Set(live.map((e) => e.key))];
      const ctxs = [...new Set(live.map((e) => e.ctx))];
      let waitingSince = Infinity;
      for (const e of live) waitingSince = Math.min(waitingSince, e.askedAt);
      const found = await loadMany(ctxs, keys, waitingSince);
      return entries.map((e) => (live.includes(e) ? found.get(e.key) : abortedError(e.ctx.signal, 'waiting for a batched read')));
    } finally {
      inFlight--;
      waiting.shift()?.();
    }
  }

  function schedule(dispatch: () => void): void {
    setImmediate(function dispatchWhenFree() {
      if (inFlight < maxInFlight) dispatch();
      else waiting.push(dispatch);
    });
  }

  const loader = new DataLoader<Entry<K>, V | undefined>(loadBatch, {
    cache: false,
    maxBatchSize: options.maxBatch,
    batchScheduleFn: schedule,
  });

  return {
    load: function load(ctx: Context, key: K): Promise<V | undefined> {
      loads++;
      return loader.load({ ctx, key, askedAt: performance.now() });
    },
    get loads() {
      return loads;
    },
    get batches() {
      return batches;
    },
  };
}
