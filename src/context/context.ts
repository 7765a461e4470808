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
 * context that carries all their accounts. Each request also carries its
 * deadline and an abort signal (deadline.ts); a batch runs until its latest
 * member's deadline and is abandoned only when every member is.
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
import { allAborted } from './deadline.ts';
import { createQueryAccount, type QueryAccount } from '../profiler/query-account.ts';
import { highest, type Priority } from './priority.ts';

/** The W3C trace position of work: the span its own spans are children of (src/telemetry/). */
export interface TraceRef {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

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
  /** The W3C trace this request belongs to: the server span while tracing is on (OTEL_EXPORTER_OTLP_*), else none; a batch has none (its members are linked). */
  readonly trace?: TraceRef;
  /** When the work stops being wanted (performance.now() ms); Infinity for none. See deadline.ts. */
  readonly deadline: number;
  /** Aborted when the client leaves or the deadline passes; never, for background work. */
  readonly signal: AbortSignal;
  /** Who is shed first under pressure (priority.ts): the route's class, lowered by an RFC 9218 header. */
  readonly priority: Priority;
  /**
   * Read-your-writes: the WAL position (an LSN, verified from the client's
   * Consistency-Token) this request's reads must see; a replica serves them
   * only once it has replayed that far (src/db/replicas/).
   */
  readonly consistency?: bigint;
}

/** Background work is never abandoned. */
const NEVER: AbortSignal = new AbortController().signal;

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
export function requestContext(
  id: string,
  route: string,
  options: {
    accounted?: boolean;
    deadline?: number;
    signal?: AbortSignal;
    priority?: Priority;
    trace?: TraceRef | undefined;
    consistency?: bigint | undefined;
  } = {},
): Context {
  const accounts = options.accounted === false ? NO_ACCOUNTS : [createQueryAccount(id, route)];
  // Every Context has every field, in this order (undefined when absent): one hidden class, so the
  // many sites that read a Context stay monomorphic.
  return {
    id,
    route,
    accounts,
    trace: options.trace,
    deadline: options.deadline ?? Infinity,
    signal: options.signal ?? NEVER,
    priority: options.priority ?? 'normal',
    consistency: options.consistency,
  };
}

/** The members of a batch context with a sampled member (for span links), else undefined. */
export function tracedMembersOf(ctx: Context): readonly Context[] | undefined {
  return TRACED_BATCHES.get(ctx);
}

const TRACED_BATCHES = new WeakMap<Context, readonly Context[]>();

/**
 * The context of work no request asked for, named for logs and traces;
 * its statements are charged to no request.
 *
 * @example
 * const PLAN_SAMPLING = backgroundContext('plan sampling');
 * await pool.query(PLAN_SAMPLING, explain, READ);
 */
export function backgroundContext(name: string): Context {
  return Object.freeze({
    id: name,
    route: name,
    accounts: NO_ACCOUNTS,
    trace: undefined,
    deadline: Infinity,
    signal: NEVER,
    priority: 'low',
    consistency: undefined,
  });
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
  // The batch runs for whoever still waits: until the latest deadline, abandoned only when all are.
  const deadline = members.length === 0 ? Infinity : Math.max(...members.map((ctx) => ctx.deadline));
  const signal = members.length === 0 ? NEVER : allAborted(members.map((ctx) => ctx.signal));
  const priority = members.reduce<Priority>((p, ctx) => highest(p, ctx.priority), 'low');
  // The newest token: the batch's one statement must satisfy every member.
  let consistency: bigint | undefined;
  for (const ctx of members)
    if (ctx.consistency !== undefined && (consistency === undefined || ctx.consistency > consistency)) consistency = ctx.consistency;
  const batch: Context = {
    id: members.length === 0 ? 'batch' : members.map((ctx) => ctx.id).join(','),
    route,
    accounts,
    trace: undefined,
    deadline,
    signal,
    priority,
    consistency,
  };
  // Only sampled members get spans (src/telemetry/db-spans.ts): an unsampled trace costs no bookkeeping.
  if (members.some((ctx) => ctx.trace?.sampled === true)) TRACED_BATCHES.set(batch, members);
  return batch;
}
