/**
 * The page answer: `{ items, nextCursor }` plus an RFC 8288 `Link` header, so
 * generic HTTP clients can follow pages without knowing our envelope.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The request's own path and query with `cursor` replaced: a relative
 * reference, resolved against the request URL, so it survives any proxy
 * that rewrote the host.
 *
 * @example
 * nextLink('/api/products?limit=5&category=tools', 'abc.def') // '/api/products?limit=5&category=tools&cursor=abc.def'
 */
export function nextLink(requestUrl: string, cursor: string): string {
  const url = new URL(requestUrl, 'http://holdfast.invalid');
  url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}

/**
 * Builds the page body and, when there is a next page, the `Link` header.
 *
 * @example
 * return page(request, reply, rows, next === null ? null : cursors.encode('products', filters, next));
 */
export function page<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  items: T[],
  nextCursor: string | null,
): { items: T[]; nextCursor: string | null } {
  if (nextCursor !== null) reply.header('link', `<${nextLink(request.url, nextCursor)}>; rel="next"`);
  return { items, nextCursor };
}
