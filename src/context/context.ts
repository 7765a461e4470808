/**
 * The request context: the per-request state every layer below a route
 * needs, in one value passed explicitly as the FIRST parameter of every
 * call that may reach the database (stores, cached stores, the batch loader,
 * the pool), like Go's context.Context.
 *
 * Today it carries who the request is (id, route) and the query accounts
 * the profiler charges each statement to (src/profiler/query-account.ts).
 * Work that no request asked for (warm-up, plan sampling, the readiness
 * probe) runs under a named background context charged to no one; one
 * statement serving several requests (a batched read) runs under a batch
 * context that carries all their accounts.
 *
 * Why passed and not found through AsyncLocalStorage: on Node 20 that turns
 * on an async hook run for every promise the process creates, and each
 * promise keeps the context it was made in alive. Measured, it cost memory
 * under load for no CPU gain (docs/PROFILER.md, "Server-Timing"). Passed
 * explicitly, the context is also visible where a statement runs, and
 * test/http/query-accounting.test.ts fails a route that forgets it.
 *
 * @example
 * const ctx = requestContext(request.id, 'GET /api/products/:id');
 * const product = await products.get(ctx, 7);
 * ctx.accounts[0]!.queries; // 1
 */
import { createQueryAccount, type QueryAccount } from '../profiler/query-account.ts';

export interface Context {
  /** The request id; the job's name for background work; the members' ids for a batch. */
  readonly id: string;
  /** `METHOD /route/:pattern` (never the raw URL); the job's name for background work. */
  readonly route: string;
  /**
   * Charged with every statement run under this context: one for a request,
   * none for background work, one per request served for a batch.
   */
  readonly accounts: readonly QueryAccount[];
  /**
   * Read-your-writes: the WAL position (an LSN, verified from the client's
   * Consistency-Token) this request's reads must see; a replica serves them
   * only once it has replayed that far (src/db/replicas/).
   */
  readonly consistency?: bigint;
  // Later issues add their per-request state here (a deadline, a priority, a
  // read-consistency token), each set by requestContext and combined by
  // batchContext (earliest deadline, highest priority, newest token).
}

const NO_ACCOUNTS: readonly QueryAccount[] = Object.freeze([]);

/**
 * The context of one HTTP request, with its own query account.
 * `accounted: false` charges its statements to no one (a request outside
 * the profiled scope, which never reports them).
 *
 * @example
 * const ctx = requestContext(request.id, 'POST /api/orders');
 * await orders.place(ctx, body, { idempotencyKey });
 */
export function requestContext(id: string, route: string, options: { accounted?: boolean } = {}): Context {
  return { id, route, accounts: options.accounted === false ? NO_ACCOUNTS : [createQueryAccount(id, route)] };
}

/**
 * The context of work no request asked for, named for logs and traces;
 * its statements are charged to no request.
 *
 * @example
 * const PLAN_SAMPLING = backgroundContext('plan sampling');
 * await pool.query(PLAN_SAMPLING, explain, READ);
 */
export function backgroundContext(name: string): Context {
  return Object.freeze({ id: name, route: name, accounts: NO_ACCOUNTS });
}

/**
 * The context of one statement run for several requests at once: each
 * request's accounts are charged (each once, however many of its loads the
 * batch holds). A batch of one context is that context.
 *
 * @example
 * const ctx = batchContext(entries.map((e) => e.ctx));
 * await db.query(ctx, { ...GET_MANY, values: [ids] }, READ);
 */
export function batchContext(ctxs: readonly Context[]): Context {
  if (ctxs.length === 1) return ctxs[0]!;
  const members = [...new Set(ctxs)];
  if (members.length === 1) return members[0]!;
  const accounts = [...new Set(members.flatMap((ctx) => ctx.accounts))];
  const first = members[0];
  const route = first !== undefined && members.every((ctx) => ctx.route === first.route) ? first.route : 'batch';
  const batch = { id: members.length === 0 ? 'batch' : members.map((ctx) => ctx.id).join(','), route, accounts };
  // The newest token: the batch's one statement must satisfy every member.
  const tokens = members.flatMap((ctx) => (ctx.consistency === undefined ? [] : [ctx.consistency]));
  return tokens.length === 0 ? batch : { ...batch, consistency: tokens.reduce((a, b) => (a > b ? a : b)) };
}
