import { describe, expect, it } from 'vitest';
import { describeStep, gcraRefund, gcraStep, type Policy, type Tat } from '../../../src/guards/rate-limit/gcra.ts';
import { createMemoryStore } from '../../../src/guards/rate-limit/memory-store.ts';

const minute = (limit: number): Policy => ({ name: 'default', limit, windowMs: 60_000 });

/** A memory store on a clock the test moves. */
function clocked() {
  let nowMs = 1_000_000;
  const store = createMemoryStore({ now: () => nowMs });
  return {
    store,
    at(ms: number) {
      nowMs = ms;
    },
    get now() {
      return nowMs;
    },
  };
}

describe('GCRA', () => {
  it.each([1, 7, 20, 100, 999, 100_000])('admits a fresh burst of exactly the limit (%i) at one instant, then refuses', (limit) => {
    const policy = minute(limit);
    let tat: Tat | undefined;
    let admitted = 0;
    for (let i = 0; i < limit + 5; i += 1) {
      const step = gcraStep(tat, 1_700_000_000_000_000, policy); // epoch microseconds, as Redis TIME gives
      if (step.allowed) admitted += 1;
      tat = step.tat;
    }
    expect(admitted).toBe(limit);
  });

  it('admits any burst below the limit at once', () => {
    const c = clocked();
    const answers = Array.from({ length: 12 }, () => c.store.take('k', minute(20)));
    expect(answers.every((a) => a.allowed)).toBe(true);
    expect(answers.map((a) => a.remaining)).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8]);
  });

  it('never admits a second quota across a (fixed-window) boundary', () => {
    const c = clocked();
    const policy = minute(20);
    // A fixed window would reset at 60 s: spend the quota just before, try again just after.
    c.at(59_900);
    expect(Array.from({ length: 20 }, () => c.store.take('k', policy)).every((a) => a.allowed)).toBe(true);
    c.at(60_100);
    expect(Array.from({ length: 20 }, () => c.store.take('k', policy)).filter((a) => a.allowed)).toHaveLength(0);
  });

  it('refills at limit/window: one more request every window/limit, never a burst', () => {
    const c = clocked();
    const policy = minute(20); // one request per 3 s
    const start = c.now;
    for (let i = 0; i < 20; i += 1) c.store.take('k', policy);
    const admittedAt: number[] = [];
    for (let t = start; t <= start + 180_000; t += 100) {
      c.at(t);
      if (c.store.take('k', policy).allowed) admittedAt.push(t - start);
    }
    expect(admittedAt[0]).toBe(3000);
    expect(admittedAt.slice(1).map((t, i) => t - admittedAt[i]!)).toEqual(new Array(admittedAt.length - 1).fill(3000));
  });

  it('caps any span of L seconds at limit + L·limit/window, so no short span ever sees twice the limit', () => {
    const c = clocked();
    const policy = minute(20);
    const times: number[] = [];
    for (let t = 0; t <= 300_000; t += 50) {
      c.at(t);
      // A greedy client: several requests per tick.
      for (let k = 0; k < 3; k += 1) if (c.store.take('k', policy).allowed) times.push(t);
    }
    for (const span of [1_000, 10_000, 30_000, 60_000]) {
      let most = 0;
      for (let i = 0, j = 0; i < times.length; i += 1) {
        while (times[i]! - times[j]! > span) j += 1;
        most = Math.max(most, i - j + 1);
      }
      expect(most, `most admitted within ${span} ms`).toBeLessThanOrEqual(20 + Math.floor(span / 3000));
      if (span < 3000) expect(most).toBe(20);
    }
  });

  it('describes state as RateLimit r and t: t is the wait for the next unit, and equals Retry-After when refused', () => {
    const policy = minute(20); // 3 s per request
    expect(describeStep(true, 3000, policy)).toEqual({ allowed: true, remaining: 19, resetSeconds: 3, retryAfterSeconds: 0 });
    expect(describeStep(true, 60_000, policy)).toEqual({ allowed: true, remaining: 0, resetSeconds: 3, retryAfterSeconds: 0 });
    expect(describeStep(false, 59_000, policy)).toEqual({ allowed: false, remaining: 0, resetSeconds: 2, retryAfterSeconds: 2 });
    expect(describeStep(true, 1000, minute(7)).remaining).toBe(6);
  });

  it('keeps memory bounded: the least recently seen keys are evicted first', () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now, maxKeys: 3 });
    const policy = minute(1);
    for (const key of ['a', 'b', 'c']) store.take(key, policy);
    store.take('a', policy); // refused, but seen: 'a' is now the most recent
    store.take('d', policy);
    expect(store.size).toBe(3);
    expect(store.take('a', policy).allowed).toBe(false); // kept
    expect(store.take('b', policy).allowed).toBe(true); // evicted, so fresh again
    now += 60_000;
    expect(store.take('a', policy).allowed).toBe(true);
  });

  it('gives back exactly one unit on refund, remainder included, and forgets a key refunded to now', () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    const policy = minute(7); // window/limit is not a whole number of µs
    for (let i = 0; i < 7; i++) expect(store.take('k', policy).allowed).toBe(true);
    expect(store.take('k', policy).allowed).toBe(false);
    store.refund('k', policy);
    expect(store.take('k', policy).allowed).toBe(true);
    expect(store.take('k', policy).allowed).toBe(false);
    for (let i = 0; i < 7; i++) store.refund('k', policy);
    expect(store.size).toBe(0);
    store.refund('never-seen', policy);
    expect(store.size).toBe(0);
    now += 1;
    expect(gcraRefund({ us: 1000 + 8_571_428, rem: 4 }, 1000, policy)).toBeUndefined();
    expect(gcraRefund({ us: 1000 + 8_571_428, rem: 5 }, 1000, policy)).toEqual({ us: 1000, rem: 1 });
  });
});
