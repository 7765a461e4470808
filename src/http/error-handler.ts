/**
 * Fastify's error, not-found and framework-error handlers, all answering with
 * problem documents.
 *
 * Logging follows who must act: an INTERNAL error is a bug, logged with its
 * stack at error; a 503 is an operational condition, logged at warn without
 * a stack; a 4xx is the client's business and is not logged at all (a flood
 * of bad requests must not become a flood of log lines). A client that
 * closes its connection mid-body is the client's business too: counted in
 * /metrics, logged at debug.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';
import type { ConnectionMetrics } from '../metrics/http-metrics.ts';
import { isClientAbort, toAppError } from './error-mapping.ts';
import { API_CSP } from './hardening.ts';
import { isLingering } from './lingering-close.ts';
import { PROBLEM_CONTENT_TYPE, problemDocument, sendProblem } from './problem.ts';

/** Sockets closed for a request timeout: the abort that follows is ours, not the client's. */
const timedOut = new WeakSet<Socket>();

/**
 * @example
 * app.setErrorHandler(createErrorHandler(connectionMetrics));
 */
export function createErrorHandler(metrics?: Pick<ConnectionMetrics, 'aborts'>) {
  return function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (isClientAbort(request.raw)) {
      const ours = timedOut.has(request.raw.socket);
      if (!ours) metrics?.aborts.inc();
      request.log.debug({ reason: ours ? 'request timeout' : 'client closed the connection' }, 'request aborted before its body arrived');
      // No one is left to read it; sent so that Fastify's lifecycle completes.
      return sendProblem(request, reply, new AppError('VALIDATION_FAILED', 'the request body was cut short'));
    }
    const error = toAppError(err);
    if (error.code === 'INTERNAL') {
      request.log.error({ err }, 'unhandled error');
    } else if (error.status >= 500) {
      // Deliberate refusals (pool full, shedding, database down) are counted
      // in /metrics and their causes logged once by the pool and the monitor;
      // a warn line per refused request would add load exactly when there is
      // too much of it.
      request.log.debug({ code: error.code, detail: error.message }, 'request refused');
    }
    return sendProblem(request, reply, error);
  };
}

/**
 * @example
 * app.setNotFoundHandler(createNotFoundHandler());
 */
export function createNotFoundHandler() {
  return function routeNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    return sendProblem(request, reply, new AppError('ROUTE_NOT_FOUND', `no route matches ${request.method} on this path`));
  };
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing, such as a
 * malformed URL, which never reach the error handler.
 *
 * @example
 * Fastify({ frameworkErrors: createFrameworkErrorHandler() });
 */
export function createFrameworkErrorHandler() {
  return function frameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    sendProblem(request, reply, toAppError(err));
  };
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses before
 * there is a request at all (a request line or headers over Node's 16 KiB
 * limit, a control character in a header, a line that is not HTTP), and a
 * request that did not arrive whole in time (Node's headers and request
 * timeouts, see connection-limits.ts). Fastify would answer these in its own
 * `{"error": …}` shape; here they get a problem document like every other
 * refusal, with a fresh request id, and the connection is closed, because
 * the parser cannot resynchronise on it. The instance is empty: the path may
 * never have been parsed, and echoing raw bytes from a malformed request
 * back is exactly what we must not do.
 *
 * A timeout is answered only where nothing has been written for the request
 * yet (as Node itself does): not when its answer is already on the wire, nor
 * while the socket lingers after an early answer (lingering-close.ts).
 *
 * @example
 * Fastify({ clientErrorHandler: createClientErrorHandler(connectionMetrics) });
 */
export function createClientErrorHandler(metrics?: Pick<ConnectionMetrics, 'timeouts'>) {
  return function clientError(err: Error & { code?: string }, socket: Socket): void {
    const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (timeout) {
      timedOut.add(socket);
      metrics?.timeouts.inc();
    }
    // A reset connection has no one to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable || isLingering(socket) || answerStarted(socket)) {
      socket.destroy();
      return;
    }
    const error = timeout
      ? new AppError('REQUEST_TIMEOUT', 'the request line, headers and body must arrive whole within the server’s time limit')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new AppError('HEADERS_TOO_LARGE', 'the request line and headers together must stay under 16 KiB')
        : new AppError('VALIDATION_FAILED', 'the request is not valid HTTP/1.1 (malformed request line or header)');
    const requestId = randomUUID();
    const body = JSON.stringify(problemDocument(error, '', requestId));
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n` +
        `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Cache-Control: no-store\r\n' +
        'X-Content-Type-Options: nosniff\r\n' +
        `Content-Security-Policy: ${API_CSP}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
      // A stalled client may still be sending: once the answer is out, do not wait for it.
      timeout ? () => socket.destroy() : undefined,
    );
  };
}

/** Whether Node has begun writing an answer on `socket` (its in-flight response, a private field Node's own handler reads too). */
function answerStarted(socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  return inFlight?.headersSent === true;
}
