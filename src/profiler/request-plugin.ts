/**
 * The HTTP side of query profiling: one accounted Context per request
 * (src/http/context.ts), and
 * `Server-Timing: db;dur=<ms>;desc="<n> queries", db-wait;dur=<ms>` on every
 * response under the prefix (default `/api`).
 *
 * The `onRequest` hook opens the request's context; route handlers take it
 * with `contextOf(request)` and pass it first to the stores, whose
 * statements the pool reports under it (src/context/context.ts says why it
 * is passed, not found through AsyncLocalStorage). A callback-style hook on
 * purpose: it costs no promise per request.
 *
 * Register it first in the scope whose requests it should account for,
 * before the routes and hooks there (hooks apply to routes registered after
 * them). `fastify-plugin` makes the hooks apply to that scope rather than
 * to a private child.
 *
 * @example
 * await app.register(async function api(scope) {
 *   await scope.register(queryProfilerPlugin(profiler));
 *   scope.get('/products/:id', (request) => products.get(contextOf(request), id));
 * }, { prefix: '/api' });
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { declareRequestContext, openRequestContext, openedContext } from '../http/context.ts';
import type { ConsistencyTokens } from '../db/replicas/consistency-token.ts';
import type { QueryProfiler } from './profiler.ts';
import type { QueryAccount } from './query-account.ts';
import type { PriorityRule } from '../context/priority.ts';

export interface QueryProfilerPluginOptions {
  /** Responses whose path is this or under it get Server-Timing; '' for all. Default '/api'. */
  timingPrefix?: string;
  /** Each request's budget in ms (REQUEST_TIMEOUT_MS); default none. See src/context/deadline.ts. */
  requestBudgetMs?: number;
  /** The route priority table (ROUTE_PRIORITIES); absent: every request is `normal`. See src/context/priority.ts. */
  priorities?: readonly PriorityRule[];
  /** Verifies a request's Consistency-Token into its Context (read replicas configured). */
  consistency?: Pick<ConsistencyTokens, 'verify'> | undefined;
}

/**
 * @example
 * await scope.register(queryProfilerPlugin(profiler, { timingPrefix: '/api' }));
 */
export function queryProfilerPlugin(
  profiler: Pick<QueryProfiler, 'requestFinished'>,
  options: QueryProfilerPluginOptions = {},
): FastifyPluginCallback {
  const prefix = options.timingPrefix ?? '/api';

  function underPrefix(url: string): boolean {
    return prefix === '' || url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
  }

  function finish(request: FastifyRequest): void {
    const ctx = openedContext(request);
    if (ctx !== undefined) profiler.requestFinished(ctx);
  }

  return fp(
    function queryProfiling(app, _options, next) {
      declareRequestContext(app);
      app.addHook('onRequest', function openQueryContext(request, reply, done) {
        try {
          openRequestContext(request, {
            budgetMs: options.requestBudgetMs,
            reply,
            priorities: options.priorities,
            consistency: options.consistency,
          });
        } catch (err) {
          done(err as Error); // a malformed Request-Timeout or Consistency-Token: 400
          return;
        }
        done();
      });
      app.addHook('onSend', function sendServerTiming(request, reply, payload, done) {
        const account = openedContext(request)?.accounts[0];
        if (account !== undefined && underPrefix(request.url)) {
          const timing = serverTiming(account);
          const existing = reply.getHeader('server-timing');
          reply.header('server-timing', existing === undefined ? timing : `${String(existing)}, ${timing}`);
        }
        done(null, payload);
      });
      app.addHook('onResponse', function closeQueryContext(request, _reply, done) {
        finish(request);
        done();
      });
      app.addHook('onRequestAbort', function abandonQueryContext(request, done) {
        finish(request);
        done();
      });
      next();
    },
    { name: 'holdfast-query-profiler', fastify: '5.x' },
  );
}

/**
 * The header value for one request.
 *
 * @example
 * serverTiming({ queries: 3, dbMs: 12.345, waitMs: 0.1, … }); // 'db;dur=12.35;desc="3 queries", db-wait;dur=0.1'
 */
export function serverTiming(account: Pick<QueryAccount, 'queries' | 'dbMs' | 'waitMs'>): string {
  const n = account.queries;
  return `db;dur=${round2(account.dbMs)};desc="${n} ${n === 1 ? 'query' : 'queries'}", db-wait;dur=${round2(account.waitMs)}`;
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
