/**
 * Error answers as RFC 9457 problem documents (`application/problem+json`).
 *
 * Every refusal has the same shape: a `type` URN and `code` from the
 * catalogue, the request path as `instance`, and the request id so a client
 * report can be matched to our logs. Any 503 also says when to retry, in
 * `Retry-After`. The document is serialised here, not by the route's response
 * schema, so an error can never be reshaped or dropped by a success schema.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../errors/app-error.ts';
import { ERROR_CATALOGUE } from '../errors/catalogue.ts';
import { openedContext } from './context.ts';
import { API_CSP } from './hardening.ts';
import { REQUEST_ID_HEADER } from './request-id.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance: string;
  requestId: string;
  /** The W3C trace id, when the request was traced: the trace of this answer in the tracing backend. */
  traceId?: string;
  [extra: string]: unknown;
}

/**
 * @example
 * problemDocument(new AppError('NOT_FOUND', 'product 9 does not exist'), '/api/products/9', 'req-1')
 * // { type: 'urn:holdfast:error:NOT_FOUND', title: 'The resource does not exist', status: 404, … }
 */
export function problemDocument(error: AppError, instance: string, requestId: string, traceId?: string): ProblemDocument {
  const document: ProblemDocument = {
    type: `urn:holdfast:error:${error.code}`,
    title: ERROR_CATALOGUE[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
    instance,
    requestId,
  };
  if (traceId !== undefined) document.traceId = traceId;
  // Extras may add members but never replace the core ones.
  for (const [name, value] of Object.entries(error.extras)) if (!(name in document)) document[name] = value;
  return document;
}

/**
 * Sends `error` as the answer to `request`.
 *
 * @example
 * return sendProblem(request, reply, new AppError('NOT_FOUND', `product ${id} does not exist`));
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const path = request.url;
  const query = path.indexOf('?');
  const traceId = openedContext(request)?.trace?.traceId;
  const document = problemDocument(error, query === -1 ? path : path.slice(0, query), request.id, traceId);
  const retryAfter = error.extras.retryAfterSeconds;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  else if (error.status === 503) reply.header('retry-after', '1');
  return (
    reply
      .code(error.status)
      .header(REQUEST_ID_HEADER, request.id)
      .header('cache-control', 'no-store')
      // Also for errors sent before any hook ran (bad URL, unknown route): see hardening.ts.
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', API_CSP)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(document))
  );
}
