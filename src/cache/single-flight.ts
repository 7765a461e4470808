/**
 * One load per key per process: concurrent misses for a key share the first
 * caller's promise, so a cold or just-invalidated hot key costs the database
 * one query instead of one per waiting request.
 *
 * Our own rather than a library's (async-cache-dedupe, p-memoize) because a
 * flight must be detachable by tag: after `invalidateTags`, a new caller must
 * not join a load that started before the write, or it would get pre-write
 * rows and a client could miss its own write. The ~30 lines are cheaper than
 * bending a library to that.
 */

interface Flight<R> {
  promise: Promise<R>;
  tags: readonly string[];
}

/** See {@link createSingleFlight}. */
export interface SingleFlight<R> {
  /** Joins the key's flight, or starts one with `start`; `leader` is true for the starter. */
  run(key: string, tags: readonly string[], start: () => Promise<R>): { promise: Promise<R>; leader: boolean };
  /** Stops new callers from joining flights that carry any of `tags`; they still settle for their callers. */
  detach(tags: readonly string[]): void;
  /** Flights in progress. */
  readonly size: number;
}

/**
 * Creates an empty set of flights. Results and errors are shared with every
 * caller of a flight and forgotten when it settles: nothing is cached here.
 *
 * @example
 * const flights = createSingleFlight<string>();
 * const { promise } = flights.run('product:7', ['product:7'], () => loadJson());
 */
export function createSingleFlight<R>(): SingleFlight<R> {
  const flights = new Map<string, Flight<R>>();

  function run(key: string, tags: readonly string[], start: () => Promise<R>): { promise: Promise<R>; leader: boolean } {
    const existing = flights.get(key);
    if (existing !== undefined) return { promise: existing.promise, leader: false };
    let promise: Promise<R>;
    try {
      promise = start();
    } catch (err) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the caller's own error on unchanged
      promise = Promise.reject(err);
    }
    const flight: Flight<R> = { promise, tags };
    flights.set(key, flight);
    const forget = (): void => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    promise.then(forget, forget);
    return { promise, leader: true };
  }

  function detach(tags: readonly string[]): void {
    if (tags.length === 0 || flights.size === 0) return;
    const wanted = new Set(tags);
    for (const [key, flight] of flights) {
      if (flight.tags.some((t) => wanted.has(t))) flights.delete(key);
    }
  }

  return {
    run,
    detach,
    get size() {
      return flights.size;
    },
  };
}
