/**
 * The one place the HTTP layer gets a request's Context
 * (src/context/context.ts): route handlers call {@link contextOf} and pass
 * the result, first, to every store call.
 *
 * The context is opened by the `onRequest` hook of the query profiler's
 * plugin (src/profiler/request-plugin.ts), first in the `/api` scope, so it
 * exists before any later hook or handler runs. It rides on the request
 * itself, in a slot declared once with decorateRequest so every request has
 * the same shape, rather than in a WeakMap, whose entry per request is an
 * ephemeron the GC must trace specially (extra GC time under load).
 *
 * @example
 * app.get('/products/:id', (request) => products.get(contextOf(request), request.params.id));
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requestContext, type Context } from '../context/context.ts';
import { requestTraceOf } from '../telemetry/http-spans.ts';
import { requestBudgetMs, requestSignal } from '../context/deadline.ts';
import { DEFAULT_PRIORITY, effectivePriority, routePriority, type Priority, type PriorityRule } from '../context/priority.ts';
import { CONSISTENCY_HEADER, type ConsistencyTokens } from '../db/replicas/consistency-token.ts';

const CONTEXT = Symbol('holdfast.context');

declare module 'fastify' {
  interface FastifyRequest {
    /** Null until opened (e.g. a 404 answered before routing). */
    [CONTEXT]: Context | null;
  }
}

/**
 * Declares the request slot in `app`'s scope; call once, at registration.
 *
 * @example
 * declareRequestContext(app);
 */
export function declareRequestContext(app: FastifyInstance): void {
  if (!app.hasRequestDecorator(CONTEXT)) app.decorateRequest(CONTEXT, null);
}

/**
 * Opens the request's context (with its query account, its deadline, its
 * abort signal and, given the route table, its priority) and puts it on the request. For the `onRequest` hook that
 * owns accounting. The deadline is `budgetMs` from now, shortened by the
 * request's timeout headers (malformed: throws 400 BAD_REQUEST_TIMEOUT);
 * with `reply`, the signal aborts when the client closes the connection
 * before the answer is written. With `consistency` (read replicas
 * configured), a `Consistency-Token` header is verified into the context's
 * `consistency` (forged or malformed: throws 400 BAD_CONSISTENCY_TOKEN);
 * without, the header is ignored.
 *
 * @example
 * app.addHook('onRequest', (request, reply, done) => { openRequestContext(request, { budgetMs: 10_000, reply }); done(); });
 */
export function openRequestContext(
  request: FastifyRequest,
  options: {
    budgetMs?: number;
    reply?: FastifyReply;
    priorities?: readonly PriorityRule[];
    consistency?: Pick<ConsistencyTokens, 'verify'> | undefined;
  } = {},
): Context {
  const budgetMs = requestBudgetMs(request.headers, options.budgetMs ?? Infinity);
  const token = options.consistency === undefined ? undefined : request.headers[CONSISTENCY_HEADER];
  const consistency = token === undefined ? undefined : options.consistency!.verify(String(token));
  const { signal, leave, done } = requestSignal(budgetMs);
  const raw = options.reply?.raw;
  // 'close' comes after the answer is written, or when the socket goes first: only the latter is a client leaving.
  raw?.once('close', () => (raw.writableFinished ? done() : leave()));
  const route = routeOf(request);
  const ctx = requestContext(request.id, route, {
    deadline: performance.now() + budgetMs,
    signal,
    priority: priorityOf(request, route, options.priorities),
    // The server span when tracing (src/telemetry/http-spans.ts) opened one; with tracing off, nothing (no cost).
    trace: requestTraceOf(request),
    consistency,
  });
  request[CONTEXT] = ctx;
  return ctx;
}

/** The context the hook opened, or undefined; never opens one. */
export function openedContext(request: FastifyRequest): Context | undefined {
  return request[CONTEXT] ?? undefined;
}

/**
 * The request's context. Outside a scope whose hook opened one (operator
 * routes), a context charged to no one is opened on first ask: nothing
 * there reports query accounting.
 *
 * @example
 * const product = await products.get(contextOf(request), id);
 */
export function contextOf(request: FastifyRequest): Context {
  const opened = request[CONTEXT];
  if (opened != null) return opened;
  const ctx = requestContext(request.id, routeOf(request), { accounted: false, trace: requestTraceOf(request) });
  request[CONTEXT] = ctx;
  return ctx;
}

/** The route's class from the table (ROUTE_PRIORITIES), lowered, never raised, by an RFC 9218 `Priority` header. */
function priorityOf(request: FastifyRequest, route: string, table: readonly PriorityRule[] | undefined): Priority {
  if (table === undefined) return DEFAULT_PRIORITY;
  const header = request.headers.priority;
  return effectivePriority(routePriority(table, route), Array.isArray(header) ? header.join(',') : header);
}

/** `METHOD /route/:pattern`, never the raw URL (no ids, no query strings). */
function routeOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
}
