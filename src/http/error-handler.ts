/**
 * Fastify's error, not-found and framework-error handlers, all answering with
 * problem documents.
 *
 * Logging follows who must act: an INTERNAL error is a bug, logged with its
 * stack at error; a 503 is an operational condition, logged at warn without
 * a stack; a 4xx is the client's business and is not logged at all (a flood
 * of bad requests must not become a flood of log lines).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.ts';
import { toAppError } from './error-mapping.ts';
import { sendProblem } from './problem.ts';

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
