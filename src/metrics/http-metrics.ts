/**
 * Request duration by route pattern and status, for Prometheus, and what
 * happens to connections below the requests: waiting to be accepted, open,
 * refused at the cap, timed out, abandoned by the client.
 *
 * The label is the route pattern (`/api/products/:id`), never the raw URL:
 * raw URLs would mint one time series per product id and exhaust memory.
 *
 * Each bucket keeps the trace id of the last sampled request it counted (an
 * OpenMetrics exemplar, served only to `Accept: application/openmetrics-text`
 * scrapes), so a slow bucket leads to a trace. Server errors are also counted
 * as `deliberate` (a 5xx sent with Retry-After: shedding, pool refusals) or
 * not, because only the second kind spends the availability SLO's budget.
 */
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { openedContext } from '../http/context.ts';
import { acceptQueue } from '../net/accept-queue.ts';

const BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Adds an onResponse hook that observes every request's duration.
 *
 * @example
 * registerHttpMetrics(server, registry);
 */
export function registerHttpMetrics(server: FastifyInstance, registry: Registry): Histogram<'method' | 'route' | 'status_code'> {
  const duration = new Histogram({
    name: 'holdfast_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: BUCKETS_S,
    enableExemplars: true,
    // prom-client refuses exemplars in a Prometheus-text registry; ours serves
    // both formats (src/metrics/openmetrics.ts), so register it by hand.
    registers: [],
  });
  registry.registerMetric(duration);
  const serverErrors = new Counter({
    name: 'holdfast_http_server_errors_total',
    help: 'HTTP 5xx responses; deliberate="true" when sent with Retry-After (a refusal, not a failure)',
    labelNames: ['route', 'deliberate'] as const,
    registers: [registry],
  });
  server.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status_code: reply.statusCode };
    const trace = openedContext(request)?.trace;
    const value = reply.elapsedTime / 1000;
    // prom-client types exemplar labels as the metric's own label names; they are not.
    const exemplarLabels = trace?.sampled === true ? ({ trace_id: trace.traceId, span_id: trace.spanId } as never) : undefined;
    if (exemplarLabels !== undefined) duration.observe({ labels, value, exemplarLabels });
    else duration.observe({ labels, value });
    if (reply.statusCode >= 500) serverErrors.inc({ route, deliberate: reply.hasHeader('retry-after') ? 'true' : 'false' });
    done();
  });
  return duration;
}

export interface ConnectionMetrics {
  /** Sockets refused because HTTP_MAX_CONNECTIONS were open. */
  dropped: Counter;
  /** Requests that did not arrive whole within HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS. */
  timeouts: Counter;
  /** Requests whose client closed the connection before sending the whole body. */
  aborts: Counter;
  /** Reports `server`'s open sockets in the open-connections gauge. */
  watch(server: Server): void;
}

/**
 * @example
 * const connections = createConnectionMetrics(registry);
 * connections.watch(app.server);
 */
export function createConnectionMetrics(registry: Registry): ConnectionMetrics {
  let server: Server | undefined;
  new Gauge({
    name: 'holdfast_http_connections_open',
    help: 'Client sockets open in this process (HTTP_MAX_CONNECTIONS caps them)',
    registers: [registry],
    async collect() {
      const open = server;
      if (open === undefined) return;
      this.set(await new Promise<number>((resolve) => open.getConnections((err, count) => resolve(err ? 0 : count))));
    },
  });
  new Gauge({
    name: 'holdfast_http_accept_queue',
    help: "Connections the kernel has established and this server has not accepted yet (its listening socket's accept queue; Linux only): time no request histogram sees",
    registers: [registry],
    // Every cluster worker reads the same kernel queue.
    aggregator: 'max',
    async collect() {
      const address = server?.address();
      if (address === null || address === undefined || typeof address === 'string') return;
      const waiting = await acceptQueue(address.port);
      if (waiting !== undefined) this.set(waiting);
    },
  });
  return {
    dropped: new Counter({
      name: 'holdfast_http_connections_dropped_total',
      help: 'Client sockets refused at once because HTTP_MAX_CONNECTIONS were open',
      registers: [registry],
    }),
    timeouts: new Counter({
      name: 'holdfast_http_request_timeouts_total',
      help: 'Requests that did not arrive whole within HTTP_HEADERS_TIMEOUT_MS or HTTP_REQUEST_TIMEOUT_MS',
      registers: [registry],
    }),
    aborts: new Counter({
      name: 'holdfast_http_client_aborts_total',
      help: 'Requests whose client closed the connection before its body had arrived',
      registers: [registry],
    }),
    watch(target) {
      server = target;
    },
  };
}
