/**
 * Request ids: one per request, in every log line and echoed to the client.
 *
 * An incoming `X-Request-Id` is kept when it looks like an id (so a caller or
 * proxy can follow its request through our logs) and replaced otherwise: it
 * lands in log lines and a response header, so it must not carry newlines,
 * markup or a novel's worth of text.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const REQUEST_ID_HEADER = 'x-request-id';

const SANE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Fastify's `genReqId`.
 *
 * @example
 * Fastify({ genReqId: requestIdOf });
 * requestIdOf(reqWithHeader('abc-123')); // 'abc-123'
 * requestIdOf(reqWithHeader('a\nb'));    // a fresh UUID
 */
export function requestIdOf(req: IncomingMessage): string {
  const incoming = req.headers[REQUEST_ID_HEADER];
  return typeof incoming === 'string' && SANE_ID.test(incoming) ? incoming : randomUUID();
}
