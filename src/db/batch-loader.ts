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
 * `scope` carries per-request accounting into the shared statement: each
 * load captures its caller's scope, and the batch runs on behalf of all of
 * them (the profiler charges each request for the statement it waited on).
 *
 * @example
 * const loader = createBatchLoader<number, Product>({ loadMany: (ids) => store.getMany(ids), maxBatch: 64 });
 * const [a, b] = await Promise.all([loader.load(1), loader.load(2)]); // one statement
 */
import DataLoader from 'dataloader';

/** How a batch finds and re-enters the scopes of the requests it serves. */
export interface BatchScope<S> {
  /** The caller's scope, when it has one. */
  capture(): S | undefined;
  /** Runs `fn` on behalf of every scope at once. */
  run<T>(scopes: readonly S[], fn: () => T): T;
}

export interface BatchLoaderOptions<K, V, S> {
  /** Reads every key in one statement; a key missing from the map has no value. */
  loadMany(keys: readonly K[]): Promise<ReadonlyMap<K, V>>;
  /** Most keys in one statement; more loads in one turn make several batches. */
  maxBatch: number;
  /**
   * Batches out at once; later ones fill up until one returns. Default 4:
   * enough to keep the database busy while the next batch fills, and few
   * enough that waiting loads join a batch instead of each taking a connection.
   */
  maxInFlight?: number;
  scope?: BatchScope<S>;
}

export interface BatchLoader<K, V> {
  /** The value for `key`, or undefined when it has none. Rejects when its batch fails. */
  load(key: K): Promise<V | undefined>;
  /** Loads asked for since start. */
  readonly loads: number;
  /** Statements sent for them. */
  readonly batches: number;
}

interface Entry<K, S> {
  key: K;
  scope: S | undefined;
}

/**
 * @example
 * const loader = createBatchLoader({ loadMany: getMany, maxBatch: 64, scope: requestScope });
 * await loader.load(7);
 */
export function createBatchLoader<K, V, S = never>(options: BatchLoaderOptions<K, V, S>): BatchLoader<K, V> {
  const { loadMany, scope } = options;
  const maxInFlight = options.maxInFlight ?? 4;
  let loads = 0;
  let batches = 0;
  let inFlight = 0;
  /** Batches ready to go, oldest first, each still taking loads until sent. */
  const waiting: (() => void)[] = [];

  // DataLoader calls this synchronously from `dispatch`, so `inFlight` is
  // counted before the next scheduled batch looks at it.
  async function loadBatch(entries: readonly Entry<K, S>[]): Promise<(V | undefined)[]> {
    batches++;
    inFlight++;
    try {
      const keys = [...new Set(entries.map((e) => e.key))];
      const scopes: S[] = [];
      for (const e of entries) if (e.scope !== undefined) scopes.push(e.scope);
      const found = scope === undefined || scopes.length === 0 ? await loadMany(keys) : await scope.run(scopes, () => loadMany(keys));
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

  const loader = new DataLoader<Entry<K, S>, V | undefined>(loadBatch, { cache: false, maxBatchSize: options.maxBatch, batchScheduleFn: schedule });

  return {
    load: function load(key: K): Promise<V | undefined> {
      loads++;
      return loader.load({ key, scope: scope?.capture() });
    },
    get loads() {
      return loads;
    },
    get batches() {
      return batches;
    },
  };
}
