/**
 * The HTTP server span of every `/api` request, from our own Fastify hooks.
 *
 * Not @opentelemetry/instrumentation-http/-fastify: they patch modules at
 * load time (require-in-the-middle, which does not see ESM imports without a
 * loader hook) and hand the span on through the global context manager,
 * i.e. AsyncLocalStorage, which this codebase keeps off the request path
 * (src/context/context.ts). Two hooks give the same span: opened in
 * `onRequest` (first in the scope, so it covers every later hook), with the
 * incoming `traceparent`/`tracestate` as parent, and closed in
 * `onResponse` with the status. The span's ids go into the request's
 * Context (`ctx.trace`, read by every span below it), into each log line of
 * the request (`trace_id`, `span_id`) and into problem+json bodies.
 *
 * @example
 * await api.register(httpSpans(tracing)); // before queryProfilerPlugin
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ROOT_CONTEXT, defaultTextMapGetter } from '@opentelemetry/api';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { TraceRef } from '../context/context.ts';
import { lazyChild } from '../log/lazy-child.ts';
import { SpanKind, type Tracing } from './tracer.ts';

const SPAN = Symbol('holdfast.span');
const TRACE = Symbol('holdfast.trace');

declare module 'fastify' {
  interface FastifyRequest {
    [SPAN]: Span | null;
    [TRACE]: TraceRef | null;
  }
}

const propagator = new W3CTraceContextPropagator();

/** The request's server span position, when tracing opened one; read by http/context.ts. */
export function requestTraceOf(request: FastifyRequest): TraceRef | undefined {
  return request[TRACE] ?? undefined;
}

/**
 * @example
 * await api.register(httpSpans(tracing));
 */
export function httpSpans(tracing: Tracing): FastifyPluginCallback {
  const { tracer } = tracing;
  function finish(request: FastifyRequest, status: number | undefined, aborted: boolean): void {
    const span = request[SPAN];
    if (span === null) return;
    request[SPAN] = null;
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (aborted) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
    else if (status !== undefined && status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
  return fp(
    function tracingHooks(app, _options, next) {
      if (!app.hasRequestDecorator(SPAN)) app.decorateRequest(SPAN, null);
      if (!app.hasRequestDecorator(TRACE)) app.decorateRequest(TRACE, null);
      app.addHook('onRequest', function openServerSpan(request, _reply, done) {
        const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
        // Sampled first: an unsampled request builds no span, name or attributes (tracer.ts, root).
        const { span, ref } = tracing.root(parent, () => {
          const route = request.routeOptions.url ?? '(no route)';
          return tracer.startSpan(
            `${request.method} ${route}`,
            {
              kind: SpanKind.SERVER,
              attributes: {
                'http.request.method': request.method,
                'http.route': route,
                'url.scheme': request.protocol,
                'holdfast.request_id': request.id,
              },
            },
            parent,
          );
        });
        request[SPAN] = span ?? null;
        request[TRACE] = ref;
        request.log = lazyChild(request.log, { trace_id: ref.traceId, span_id: ref.spanId });
        done();
      });
      app.addHook('onResponse', function closeServerSpan(request, reply, done) {
        finish(request, reply.statusCode, false);
        done();
      });
      app.addHook('onRequestAbort', function abandonServerSpan(request, done) {
        finish(request, undefined, true);
        done();
      });
      next();
    },
    { name: 'holdfast-http-spans', fastify: '5.x' },
  );
}
