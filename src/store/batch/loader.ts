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
 *    slot is bounded by the batches ahead, each bounded by the pool's
 *    acquire timeout and the statement timeout.
 *
 * Each load may name the account it is for (the caller's per-request
 * accounting, src/db/types.ts); the batch's statement is charged to all of
 * them, so each request still sees the statement it waited on.
 *
 * @example
 * const loader = createBatchLoader<number, Product>({ loadMany: (ids, accounts) => getMany(ids, accounts), maxBatch: 64 });
 * const [a, b] = await Promise.all([loader.load(1), loader.load(2)]); // one statement
 */
import DataLoader from 'dataloader';
import type { QueryAccount } from '../../db/types.ts';

export interface BatchLoaderOptions<K, V> {
  /** Reads every key in one statement charged to `accounts`; a key missing from the map has no value. */
  loadMany(keys: readonly K[], accounts: readonly object[]): Promise<ReadonlyMap<K, V>>;
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
  load(key: K, account?: QueryAccount): Promise<V | undefined>;
  /** Loads asked for since start. */
  readonly loads: number;
  /** Statements sent for them. */
  readonly batches: number;
}

interface Entry<K> {
  key: K;
  account: QueryAccount | undefined;
}

/**
 * @example
 * const loader = createBatchLoader({ loadMany: getMany, maxBatch: 64 });
 * await loader.load(7, requestContext);
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
  async function loadBatch(entries: readonly Entry<K>[]): Promise<(V | undefined)[]> {
    batches++;
    inFlight++;
    try {
      const keys = [...new Set(entries.map((e) => e.key))];
      // One flat list: a load's account may itself name several requests.
      const accounts = [...new Set(entries.flatMap((e) => (e.account === undefined ? [] : Array.isArray(e.account) ? e.account : [e.account])))];
      const found = await loadMany(keys, accounts);
      return entries.map((e) => found.get(e.key));
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

  const loader = new DataLoader<Entry<K>, V | undefined>(loadBatch, { cache: false, maxBatchSize: options.maxBatch, batchScheduleFn: schedule });

  return {
    load: function load(key: K, account?: QueryAccount): Promise<V | undefined> {
      loads++;
      return loader.load({ key, account });
    },
    get loads() {
      return loads;
    },
    get batches() {
      return batches;
    },
  };
}
