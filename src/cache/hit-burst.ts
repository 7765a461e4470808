/**
 * Hands out the in-memory cache's hits together, once per event-loop turn,
 * instead of each as soon as its request is read.
 *
 * Why: a hit answered at once is written to its socket between reading one
 * request and the next, so a turn that reads fifty requests makes fifty
 * writes spread over its whole length, and each wakes the client (on
 * loopback, and under a hypervisor an inter-processor interrupt) that had
 * just gone back to sleep. With the cache off, the batch loader answers the
 * same fifty in one burst when their statement returns, and the client is
 * woken once. Measured on the Zipf product-by-id bench (docs/OVERLOAD.md,
 * "The cache never costs"): immediate hits cost 1.3-1.5 context switches and
 * 0.4 IPIs per request machine-wide against 0.2 and 0.07 for batched reads,
 * which made a perfect in-memory cache slower than no cache at all.
 *
 * So hits are resolved in the check phase (`setImmediate`), after every
 * socket readable in this turn was handled, as the batch loader sends its
 * batches (src/store/batch/loader.ts). The wait is the rest of the current
 * turn, never a timer. Each caller still gets its own copy (`JSON.parse`
 * per answer, done in the flush).
 *
 * @example
 * const burst = createHitBurst();
 * const product = await burst.answer<Product>(entry.json); // resolved with the turn's other hits
 */

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  json: string;
}

/** See {@link createHitBurst}. */
export interface HitBurst {
  /** A copy of the value `json` holds, resolved in this turn's check phase with every other hit. */
  answer<T>(json: string): Promise<T>;
  /** Answers waiting for the flush. */
  readonly pending: number;
}

/** Creates an empty burst; the first answer of a turn schedules its flush. */
export function createHitBurst(): HitBurst {
  let queue: Pending[] = [];

  function flush(): void {
    const answers = queue;
    queue = [];
    for (const { resolve, reject, json } of answers) {
      try {
        resolve(JSON.parse(json));
      } catch (err) {
        reject(err);
      }
    }
  }

  return {
    answer<T>(json: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        if (queue.push({ resolve: resolve as (value: unknown) => void, reject, json }) === 1) setImmediate(flush);
      });
    },
    get pending() {
      return queue.length;
    },
  };
}
