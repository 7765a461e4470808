import { describe, expect, it } from 'vitest';
import { createRetryBudget } from '../../../src/db/pool/retry-budget.ts';

describe('the retry budget', () => {
  it('allows retries up to 10% of the requests over the window, then refuses', () => {
    let t = 0;
    const budget = createRetryBudget({ ratio: 0.1, windowMs: 10_000, now: () => t });
    for (let i = 0; i < 100; i++) budget.onRequest();
    expect(budget.remaining).toBe(10);
    const allowed = Array.from({ length: 100 }, () => budget.tryRetry()).filter(Boolean).length;
    expect(allowed).toBe(10);
    expect(budget.spent).toBe(10);
    expect(budget.refused).toBe(90);
    expect(budget.remaining).toBe(0);
    t += 10_000; // the window slid past every request and retry
    expect(budget.tryRetry()).toBe(true); // minRetries: one per window even when quiet
    expect(budget.tryRetry()).toBe(false);
  });
});
