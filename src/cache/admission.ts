/**
 * TinyLFU-style admission: a key earns a place in the cache only once it has
 * been asked for again within a recent window. On random reads over a
 * catalogue much larger than the cache, most keys are seen once per TTL, so
 * caching them costs a ticket, a store write, a stringify and a parse per
 * request and evicts something just as cold; refusing them makes the cache
 * cost nothing where it cannot help, and keeps it for the hot keys of a
 * skewed workload, where it does.
 *
 * A count-min sketch (4 rows of small saturating counters) estimates how
 * often a key was asked for; every `window` recordings all counters are
 * halved, so the estimate follows the recent workload (TinyLFU's "reset").
 * Memory is fixed (16 bytes per window slot) whatever the key space. Hashing is
 * deterministic (FNV-1a, double hashing for the rows), so tests are too.
 */

/** See {@link createAdmission}. */
export interface Admission {
  /** Records one request for `key`; true when its estimated frequency reaches the threshold. */
  admit(key: string): boolean;
  /** The current estimate for `key`, without recording a request. */
  estimate(key: string): number;
  /** Recordings so far (before halving resets the window count). */
  readonly recorded: number;
}

export interface AdmissionOptions {
  /** Recordings between halvings; about the number of entries the cache holds. */
  window: number;
  /** Requests within the window before a key is admitted. Default 2 ("asked for again"). */
  threshold?: number;
}

const ROWS = 4;
const MAX_COUNT = 15;

/**
 * Creates an admission filter.
 *
 * @example
 * const admission = createAdmission({ window: 20_000 });
 * admission.admit('product:7'); // false: first sight
 * admission.admit('product:7'); // true: asked for again
 */
export function createAdmission(options: AdmissionOptions): Admission {
  const window = Math.max(16, Math.floor(options.window));
  const threshold = Math.max(1, Math.floor(options.threshold ?? 2));
  // Width: the next power of two ≥ 4 × the window, so a one-hit key rarely finds all four of its counters taken.
  let width = 64;
  while (width < 4 * window) width *= 2;
  const mask = width - 1;
  const counters = new Uint8Array(ROWS * width);
  let sinceHalving = 0;
  let recorded = 0;

  function indexes(key: string): [number, number, number, number] {
    const h1 = fnv1a(key, 0x811c9dc5);
    const h2 = fnv1a(key, 0x01000193) | 1;
    return [h1 & mask, width + ((h1 + h2) & mask), 2 * width + ((h1 + 2 * h2) & mask), 3 * width + ((h1 + 3 * h2) & mask)];
  }

  function minOf(slots: readonly number[]): number {
    let min = MAX_COUNT;
    for (const slot of slots) min = Math.min(min, counters[slot]!);
    return min;
  }

  function halve(): void {
    for (let i = 0; i < counters.length; i++) counters[i] = counters[i]! >> 1;
    sinceHalving = 0;
  }

  return {
    admit(key) {
      const slots = indexes(key);
      // Conservative update: raise only the counters at the minimum, which keeps over-estimates small.
      const min = minOf(slots);
      if (min < MAX_COUNT) for (const slot of slots) if (counters[slot] === min) counters[slot] = min + 1;
      recorded++;
      if (++sinceHalving >= window) halve();
      return Math.min(min + 1, MAX_COUNT) >= threshold;
    },
    estimate: (key) => minOf(indexes(key)),
    get recorded() {
      return recorded;
    },
  };
}

/** 32-bit FNV-1a over UTF-16 code units, from `seed`. */
function fnv1a(text: string, seed: number): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
