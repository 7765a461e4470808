/**
 * The HTTP side of query profiling: one accounting context per request, and
 * `Server-Timing: db;dur=<ms>;desc="<n> queries", db-wait;dur=<ms>` on every
 * response under the prefix (default `/api`).
 *
 * The `onRequest` hook puts the context on the request; route handlers take
 * it with {@link queriesOf} and hand it to the stores, which charge their
 * statements to it (request-context.ts says why it is passed, not found
 * through AsyncLocalStorage). A callback-style hook on purpose: it costs no
 * promise per request.
 *
 * Register it first in the scope whose requests it should account for,
 * before the routes and hooks there (hooks apply to routes registered after
 * them). `fastify-plugin` makes the hooks apply to that scope rather than
 * to a private child.
 *
 * @example
 * await app.register(async function api(scope) {
 *   await scope.register(queryProfilerPlugin(profiler));
 *   scope.get('/products/:id', (request) => products.get(id, queriesOf(request)));
 * }, { prefix: '/api' });
 */
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { QueryProfiler } from './profiler.ts';
import { createRequestQueries, type RequestQueries } from './request-context.ts';

/** The request's accounting context; null until openQueryContext ran (e.g. a 404 before routing). */
const QUERY_CONTEXT = Symbol('holdfast.queryContext');

declare module 'fastify' {
  interface FastifyRequest {
    [QUERY_CONTEXT]: RequestQueries | null;
  }
}

/**
 * The request's accounting context, to charge its statements to; undefined
 * outside a profiled scope.
 *
 * @example
 * const product = await products.get(id, queriesOf(request));
 */
export function queriesOf(request: FastifyRequest): RequestQueries | undefined {
  return request[QUERY_CONTEXT] ?? undefined;
}

export interface QueryProfilerPluginOptions {
  /** Responses whose path is this or under it get Server-Timing; '' for all. Default '/api'. */
  timingPrefix?: string;
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
  // The context rides on the request itself (a slot declared once with
  // decorateRequest, so every request has the same shape) rather than in a
  // WeakMap: a WeakMap entry per request is an ephemeron the GC must trace
  // specially, which showed up as extra GC time per request under load.

  function underPrefix(url: string): boolean {
    return prefix === '' || url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`);
  }

  function finish(request: FastifyRequest): void {
    const ctx = request[QUERY_CONTEXT];
    if (ctx != null) profiler.requestFinished(ctx);
  }

  return fp(
    function queryProfiling(app, _options, next) {
      if (!app.hasRequestDecorator(QUERY_CONTEXT)) app.decorateRequest(QUERY_CONTEXT, null);
      app.addHook('onRequest', function openQueryContext(request, _reply, done) {
        const ctx = createRequestQueries(request.id, routeOf(request));
        request[QUERY_CONTEXT] = ctx;
        done();
      });
      app.addHook('onSend', function sendServerTiming(request, reply, payload, done) {
        const ctx = request[QUERY_CONTEXT];
        if (ctx != null && underPrefix(request.url)) {
          const timing = serverTiming(ctx);
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
export function serverTiming(ctx: Pick<RequestQueries, 'queries' | 'dbMs' | 'waitMs'>): string {
  const n = ctx.queries;
  return `db;dur=${round2(ctx.dbMs)};desc="${n} ${n === 1 ? 'query' : 'queries'}", db-wait;dur=${round2(ctx.waitMs)}`;
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function routeOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? '(no route)'}`;
}
