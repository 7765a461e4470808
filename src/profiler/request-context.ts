/**
 * Per-request query accounting: what one request's statements cost.
 *
 * The context travels explicitly: the HTTP side (request-plugin.ts) puts one
 * on each request, route handlers hand it to the stores, and the stores pass
 * it as the statement's `account` (src/db/types.ts), which the pool gives
 * back, untouched, to the profiler's `onQuery`. A statement run for several
 * requests at once (a batched read, src/store/batch/loader.ts) carries all of
 * their contexts, and each of them is charged for it.
 *
 * Why not AsyncLocalStorage, which found the request without any parameter:
 * on Node 20 it turns on an async hook that runs for every promise the
 * process creates, and each promise keeps the context it was made in alive.
 * Measured on GET /api/products/:id: no CPU difference within noise at 100
 * connections, about 10 MB less peak RSS at 1,000 (docs/PROFILER.md). And
 * here the accounting is visible where a statement is run, and a test
 * (test/http/query-accounting.test.ts) fails a route that forgets it.
 *
 * @example
 * const ctx = createRequestQueries('req-1', 'GET /api/products/:id');
 * await store.get(7, ctx);
 * ctx.queries; // 1
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

export interface RequestQueries {
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

const NONE: readonly RequestQueries[] = Object.freeze([]);

/**
 * @example
 * const ctx = createRequestQueries(request.id, 'POST /api/orders');
 */
export function createRequestQueries(requestId: string, route: string): RequestQueries {
  return { requestId, route, queries: 0, dbMs: 0, waitMs: 0, perFingerprint: new Map(), violations: new Map(), afterResponse: [], responded: false };
}

/**
 * The request contexts a statement's `account` names: none, one, or those
 * of a batch. Anything else there is not ours and is charged to no request.
 *
 * @example
 * for (const ctx of requestsCharged(event.account)) ctx.queries++;
 */
export function requestsCharged(account: unknown): readonly RequestQueries[] {
  if (account === undefined || account === null) return NONE;
  if (Array.isArray(account)) return account.filter(isRequestQueries);
  return isRequestQueries(account) ? [account] : NONE;
}

function isRequestQueries(value: unknown): value is RequestQueries {
  return typeof value === 'object' && value !== null && 'perFingerprint' in value && 'requestId' in value;
}
