/**
 * Small async tools for cache tests: polling for a state reached in the
 * background, and a loader whose timing the test controls.
 */

/**
 * Resolves when `condition()` is true; fails with `what` after `timeoutMs`.
 *
 * @example
 * await waitFor(() => cache.stats.mode === 'redis', 'redis mode');
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sleeps `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A promise and its resolve, to hold a loader until the test lets it finish. */
export interface Gate<T> {
  promise: Promise<T>;
  open(value: T): void;
}

/**
 * Creates a closed gate.
 *
 * @example
 * const gate = gateOf<string>(); const pending = cache.wrap(k, o, () => gate.promise); gate.open('old');
 */
export function gateOf<T>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * A loader that counts its calls and returns the current value of a fake row.
 *
 * @example
 * const db = fakeRow('v1'); await cache.wrap(k, o, db.load); db.value = 'v2';
 */
export function fakeRow<T>(initial: T): { value: T; calls: number; load: () => Promise<T> } {
  const row = {
    value: initial,
    calls: 0,
    load: async (): Promise<T> => {
      row.calls++;
      return row.value;
    },
  };
  return row;
}
