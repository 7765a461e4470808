/**
 * Fastify's error, not-found and framework-error handlers, all answering with
 * problem documents.
 *
 * Logging follows who must act: an INTERNAL error is a bug, logged with its
 * stack at error; a 503 is an operational condition, logged at warn without
 * a stack; a 4xx is the client's business and is not logged at all (a flood
 * of bad requests must not become a flood of log lines).
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';
import { toAppError } from './error-mapping.ts';
import { API_CSP } from './hardening.ts';
import { PROBLEM_CONTENT_TYPE, problemDocument, sendProblem } from './problem.ts';

/**
 * @example
 * app.setErrorHandler(createErrorHandler());
 */
export function createErrorHandler() {
  return function handleError(err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
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
 * limit, a control character in a header, a line that is not HTTP). Fastify
 * would answer these in its own `{"error": …}` shape; here they get a
 * problem document like every other refusal, with a fresh request id, and
 * the connection is closed, because the parser cannot resynchronise on it.
 * The instance is empty: the path was never parsed, and echoing raw bytes
 * from a malformed request back is exactly what we must not do.
 *
 * @example
 * Fastify({ clientErrorHandler: createClientErrorHandler() });
 */
export function createClientErrorHandler() {
  return function clientError(err: Error & { code?: string }, socket: Socket): void {
    // A reset connection has no one to answer; an idle or stalled one is just closed.
    if (err.code === 'ECONNRESET' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || socket.destroyed || !socket.writable) {
      socket.destroy();
      return;
    }
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
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
    );
  };
}
