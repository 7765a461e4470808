/**
 * A budget for the idempotent-read retry (retry.ts): retries may be at most
 * `ratio` of the requests seen over the last `windowMs`.
 *
 * Why: when the database fails over, every in-flight read fails at once; an
 * unbounded retry doubles the load on the server that is coming back (the
 * gRPC and Finagle retry budgets bound it the same way). Counted in ten
 * buckets of a tenth of the window, so memory is fixed and the window slides.
 *
 * @example
 * const budget = createRetryBudget({ ratio: 0.1, windowMs: 10_000 });
 * budget.onRequest();
 * if (budget.tryRetry()) retry(); else throw err;
 */

export interface RetryBudgetOptions {
  ratio: number;
  windowMs: number;
  /** Retries always allowed per window, so a quiet service can still retry one failure. */
  minRetries?: number;
  now?: () => number;
}

export interface RetryBudget {
  onRequest(): void;
  /** Spends one retry if the budget allows; false means refuse the retry. */
  tryRetry(): boolean;
  readonly spent: number;
  readonly refused: number;
  /** Retries the budget would allow now (for /metrics). */
  readonly remaining: number;
}

const BUCKETS = 10;

export function createRetryBudget(options: RetryBudgetOptions): RetryBudget {
  const { ratio, windowMs, minRetries = 1 } = options;
  const now = options.now ?? Date.now;
  const width = windowMs / BUCKETS;
  const requests = new Array<number>(BUCKETS).fill(0);
  const retries = new Array<number>(BUCKETS).fill(0);
  let current = Math.floor(now() / width);
  let spent = 0;
  let refused = 0;

  function roll(): number {
    const slot = Math.floor(now() / width);
    for (let s = Math.max(current + 1, slot - BUCKETS + 1); s <= slot; s++) {
      requests[s % BUCKETS] = 0;
      retries[s % BUCKETS] = 0;
    }
    current = Math.max(current, slot);
    return current % BUCKETS;
  }
  const sum = (a: number[]): number => a.reduce((x, y) => x + y, 0);
  const allowed = (): number => Math.max(minRetries, sum(requests) * ratio);

  return {
    get spent() {
      return spent;
    },
    get refused() {
      return refused;
    },
    get remaining() {
      roll();
      return Math.max(Math.floor(allowed() - sum(retries)), 0);
    },
    onRequest: function onRequest() {
      requests[roll()]!++;
    },
    tryRetry: function tryRetry() {
      const i = roll();
      if (sum(retries) + 1 > allowed()) {
        refused++;
        return false;
      }
      retries[i]!++;
      spent++;
      return true;
    },
  };
}
