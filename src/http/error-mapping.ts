/**
 * Turns whatever a request threw into a catalogue error.
 *
 * Three sources: our own `AppError`s pass through; Fastify's request errors
 * (validation, body parsing, limits) get their catalogue code; Postgres
 * errors that the request itself caused (a malformed value, a broken
 * reference) become 4xx, so bad input never surfaces as a 500. Everything
 * else is INTERNAL, and its message stays on the server.
 */
import type { IncomingMessage } from 'node:http';
import pg from 'pg';
import { AppError } from '../errors/app-error.ts';
import type { ErrorCode } from '../errors/catalogue.ts';

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  message: string;
  validation?: AjvError[];
  validationContext?: string;
}

const PART_NAMES: Readonly<Record<string, string>> = { querystring: 'query', params: 'params', body: 'body', headers: 'headers' };

/** `body` + `/items/0/quantity` → `body.items[0].quantity`. */
function fieldOf(context: string, error: AjvError): string {
  let path = PART_NAMES[context] ?? context;
  for (const raw of error.instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
  }
  const child = error.params['missingProperty'] ?? error.params['additionalProperty'];
  return typeof child === 'string' ? `${path}.${child}` : path;
}

function validationError(err: FastifyLikeError): AppError {
  const first = err.validation?.[0];
  if (first === undefined) return new AppError('VALIDATION_FAILED', err.message);
  const field = fieldOf(err.validationContext ?? 'request', first);
  const message =
    first.keyword === 'required'
      ? 'is required'
      : first.keyword === 'additionalProperties'
        ? 'is not allowed'
        : (first.message ?? 'is not valid');
  return new AppError('VALIDATION_FAILED', `${field} ${message}`, { field });
}

const FASTIFY_CODES: Readonly<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'ROUTE_NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

/** A Fastify error that blames the request (4xx); undefined for anything else. */
function fromFastify(err: FastifyLikeError): AppError | undefined {
  const status = typeof err.statusCode === 'number' ? err.statusCode : 0;
  if (typeof err.code !== 'string' || !err.code.startsWith('FST_') || status < 400 || status >= 500) return undefined;
  if (err.code === 'FST_ERR_VALIDATION') return validationError(err);
  const code = FASTIFY_CODES[err.code] ?? STATUS_CODES[status] ?? 'VALIDATION_FAILED';
  // Fastify's 4xx messages describe the request, never server internals.
  return new AppError(code, err.message);
}

/** SQLSTATE → catalogue code, for errors the request caused or a retry cures. */
function fromPostgres(err: InstanceType<typeof pg.DatabaseError>): AppError | undefined {
  const sqlstate = err.code ?? '';
  const cause = { cause: err };
  // Class 22, data exception: a value Postgres refuses (bad number, bad encoding, out of range).
  if (sqlstate.startsWith('22')) return new AppError('VALIDATION_FAILED', 'a value in the request is malformed or out of range', {}, cause);
  switch (sqlstate) {
    case '23502':
      return new AppError('VALIDATION_FAILED', 'a required value is missing', {}, cause);
    case '23503':
      return new AppError('UNKNOWN_REFERENCE', 'the request refers to a resource that does not exist', {}, cause);
    case '23505':
    case '23514':
    case '23P01':
      return new AppError('CONFLICT', 'the request conflicts with the current state of a resource', {}, cause);
    case '25006':
      // read_only_sql_transaction: a write reached a read-only host (a demoted primary, a standby).
      return new AppError('DB_UNAVAILABLE', 'the database host is read-only; retry', { retryAfterSeconds: 1 }, cause);
    case '40001':
    case '40P01':
    case '55P03':
      return new AppError('TRANSACTION_CONFLICT', 'a concurrent request got in the way; retry', { retryAfterSeconds: 1 }, cause);
    default:
      // Class 53, insufficient resources (too many connections, out of memory or disk).
      if (sqlstate.startsWith('53'))
        return new AppError('DB_UNAVAILABLE', 'the database is out of resources', { retryAfterSeconds: 1 }, cause);
      return undefined;
  }
}

/**
 * The catalogue error to answer `err` with. INTERNAL means: log it, it is a bug.
 *
 * @example
 * const appError = toAppError(err); // AppError, possibly INTERNAL
 * if (appError.code === 'INTERNAL') request.log.error({ err }, 'unhandled error');
 */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof pg.DatabaseError) {
    const mapped = fromPostgres(err);
    if (mapped !== undefined) return mapped;
  } else if (err instanceof Error) {
    const mapped = fromFastify(err);
    if (mapped !== undefined) return mapped;
  }
  return new AppError('INTERNAL', 'an unexpected error occurred; it has been logged', {}, { cause: err });
}

/**
 * Whether the request failed because its client went away mid-body (Node
 * destroys a request whose connection closed before it was complete): the
 * client's choice, not a bug, so it is counted rather than logged as
 * INTERNAL. Judged from the request, not from `err`: an ECONNRESET from the
 * database or Redis is ours to log.
 *
 * @example
 * if (isClientAbort(request.raw)) aborts.inc();
 */
export function isClientAbort(raw: IncomingMessage): boolean {
  return raw.destroyed && !raw.complete;
}
