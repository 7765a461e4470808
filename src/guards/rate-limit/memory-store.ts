/**
 * The in-memory store: GCRA state per key in a bounded LRU map. It is the
 * store when no Redis is configured and the fallback when Redis fails.
 *
 * Memory stays bounded by `maxKeys`: the least recently seen key is evicted
 * first, and a key idle for a full window carries no state worth keeping (a
 * TAT in the past means the same as no entry), so eviction only forgets
 * clients that stopped calling. The clock is injectable so tests can cross a
 * window boundary without waiting; by default it is monotonic, so a wall
 * clock step (NTP) neither frees nor blocks anyone.
 */
import { LRUCache } from 'lru-cache';
import { describeStep, gcraRefund, gcraStep, type Decision, type Policy, type Tat } from './gcra.ts';

export interface MemoryStoreOptions {
  /** Milliseconds from any fixed origin. Default `performance.now()`. */
  now?: () => number;
  /** Keys kept at most (per store). Default 100 000, a few tens of MB at most. */
  maxKeys?: number;
}

/**
 * @example
 * const store = createMemoryStore({ maxKeys: 50_000 });
 * store.take('default:ip:203.0.113.7', { name: 'default', limit: 100, windowMs: 60_000 }).allowed; // true
 */
export function createMemoryStore(options: MemoryStoreOptions = {}) {
  const now = options.now ?? (() => performance.now());
  const tats = new LRUCache<string, Tat>({ max: options.maxKeys ?? 100_000 });

  function take(key: string, policy: Policy, cost = 1): Decision {
    const step = gcraStep(tats.get(key), Math.floor(now() * 1000), policy, cost);
    if (step.allowed && cost > 0) tats.set(key, step.tat);
    return describeStep(step.allowed, step.aheadMs, policy, cost);
  }

  function charge(key: string, policy: Policy, cost: number): void {
    tats.set(key, gcraStep(tats.get(key), Math.floor(now() * 1000), policy, cost, true).tat);
  }

  /** Gives back one request of `key`'s quota (see gcraRefund). */
  function refund(key: string, policy: Policy): void {
    const tat = gcraRefund(tats.get(key), Math.floor(now() * 1000), policy);
    if (tat === undefined) tats.delete(key);
    else tats.set(key, tat);
  }

  /** Forgets every key, e.g. when Redis is back and this fallback's counts are stale. */
  function clear(): void {
    tats.clear();
  }

  return {
    take,
    refund,
    charge,
    clear,
    /** Keys currently held. */
    get size(): number {
      return tats.size;
    },
  };
}

export type MemoryStore = ReturnType<typeof createMemoryStore>;
