/**
 * Request duration by route pattern and status, for Prometheus, and what
 * happens to connections below the requests: open, refused at the cap,
 * timed out, abandoned by the client.
 *
 * The label is the route pattern (`/api/products/:id`), never the raw URL:
 * raw URLs would mint one time series per product id and exhaust memory.
 */
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

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
    registers: [registry],
  });
  server.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
      reply.elapsedTime / 1000,
    );
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
