/**
 * Per-request query accounting, carried by AsyncLocalStorage.
 *
 * The pool's `onQuery` hook runs in the async continuation of whoever called
 * `pool.query`, so it can find the request that caused the statement without
 * any request object being passed through the store layer. The HTTP side
 * (request-plugin.ts) opens one context per request; anything else (a job, a
 * script) may open its own with {@link runWithRequestQueries}. A statement
 * run for several requests at once (a batched read, src/db/batch-loader.ts)
 * runs under {@link runOnBehalfOf}, and each of them is charged for it.
 *
 * @example
 * const ctx = createRequestQueries('req-1', 'GET /api/products/:id');
 * await runWithRequestQueries(ctx, () => store.get(7));
 * ctx.queries; // 1
 */
import { AsyncLocalStorage } from 'node:async_hooks';

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

/** Several requests served by one statement. */
interface SharedScope {
  readonly shared: readonly RequestQueries[];
}

const storage = new AsyncLocalStorage<RequestQueries | SharedScope>();
const NONE: readonly RequestQueries[] = Object.freeze([]);

/**
 * @example
 * const ctx = createRequestQueries(request.id, 'POST /api/orders');
 */
export function createRequestQueries(requestId: string, route: string): RequestQueries {
  return { requestId, route, queries: 0, dbMs: 0, waitMs: 0, perFingerprint: new Map(), violations: new Map(), afterResponse: [], responded: false };
}

/**
 * The context of the request whose async work is running, if any.
 *
 * @example
 * const ctx = currentRequestQueries();
 * if (ctx) ctx.queries++;
 */
export function currentRequestQueries(): RequestQueries | undefined {
  const scope = storage.getStore();
  return scope === undefined || 'shared' in scope ? undefined : scope;
}

/**
 * Every request the running statement is for: none, the one whose async
 * work this is, or all those sharing a batched statement.
 *
 * @example
 * for (const ctx of requestsCharged()) ctx.queries++;
 */
export function requestsCharged(): readonly RequestQueries[] {
  const scope = storage.getStore();
  if (scope === undefined) return NONE;
  return 'shared' in scope ? scope.shared : [scope];
}

/**
 * Runs `fn` (and its async continuations) for all of `contexts` at once:
 * each statement it runs is charged to every one of them, so each request's
 * Server-Timing and N+1 count still show the read it waited for.
 *
 * @example
 * const contexts = keys.map((k) => k.ctx).filter((c) => c !== undefined);
 * const rows = await runOnBehalfOf(contexts, () => db.query(GET_MANY));
 */
export function runOnBehalfOf<T>(contexts: readonly RequestQueries[], fn: () => T): T {
  return storage.run({ shared: [...new Set(contexts)] }, fn);
}

/**
 * Runs `fn` (and every async continuation it starts) inside `ctx`.
 *
 * @example
 * runWithRequestQueries(ctx, done); // from a callback-style Fastify hook
 */
export function runWithRequestQueries<T>(ctx: RequestQueries, fn: () => T): T {
  return storage.run(ctx, fn);
}

/**
 * The request scope as a batch loader takes it (src/db/batch-loader.ts).
 *
 * @example
 * createProductStore(pool, { batching: { maxBatch: 64, scope: requestQueriesScope } });
 */
export const requestQueriesScope = Object.freeze({ capture: currentRequestQueries, run: runOnBehalfOf });

/**
 * Runs `fn` outside any request context: for work a request triggers but
 * must not be charged for.
 *
 * @example
 * outsideRequest(() => setImmediate(drain));
 */
export function outsideRequest<T>(fn: () => T): T {
  return storage.exit(fn);
}
