/**
 * Per-request query accounting: what one request's statements cost.
 *
 * An account rides on the request's Context (src/context/context.ts, which
 * says why the context is passed explicitly); the pool hands the context of
 * every statement to the profiler's `onQuery`, which charges each account
 * the context carries. A batched read's context carries the accounts of all
 * the requests it serves, so each of them is charged for it.
 *
 * @example
 * const ctx = requestContext('req-1', 'GET /api/products/:id');
 * await store.get(ctx, 7);
 * ctx.accounts[0]!.queries; // 1
 */

/** Where an N+1 is recorded while its request runs; `count` keeps growing with it. */
export interface NPlusOneViolation {
  /** ISO 8601, when the threshold was crossed. */
  at: string;
  requestId: string;
  route: string;
  fingerprintId: string;
  fingerprint: string;
  /** Runs of the fingerprint in the request so far. */
  count: number;
  threshold: number;
}

export interface QueryAccount {
  readonly requestId: string;
  /** `METHOD /route/:pattern`, never the raw URL (no ids, no query strings). */
  readonly route: string;
  /** Statements run, failed ones included. */
  queries: number;
  /** Sum of execution times (statements run in parallel overlap). */
  dbMs: number;
  /** Sum of pool waits. */
  waitMs: number;
  /** Runs per fingerprint id. */
  readonly perFingerprint: Map<string, number>;
  /** Fingerprints already reported as N+1 in this request. */
  readonly violations: Map<string, NPlusOneViolation>;
  /** Work to start once the response is out (plan captures). */
  readonly afterResponse: (() => void)[];
  /** Set once the response is out: later work starts at once. */
  responded: boolean;
}

/**
 * @example
 * const account = createQueryAccount(request.id, 'POST /api/orders');
 */
export function createQueryAccount(requestId: string, route: string): QueryAccount {
  return {
    requestId,
    route,
    queries: 0,
    dbMs: 0,
    waitMs: 0,
    perFingerprint: new Map(),
    violations: new Map(),
    afterResponse: [],
    responded: false,
  };
}
