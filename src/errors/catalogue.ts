/**
 * The one catalogue of error codes Holdfast can answer with.
 *
 * Every refusal a client can see is listed here, with its HTTP status and a
 * title. Clients branch on `code`, never on `title` or `detail`, so a code,
 * once published, keeps its meaning. `docs/ERRORS.md` documents each code and
 * a test keeps the two in step.
 *
 * @example
 * throw new AppError('NOT_FOUND', 'product 42 does not exist');
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, title: 'The request is not valid' },
  BAD_CURSOR: { status: 400, title: 'The pagination cursor is malformed or was tampered with' },
  BAD_REQUEST_TIMEOUT: { status: 400, title: 'The Request-Timeout or x-envoy-expected-rq-timeout-ms header is malformed' },
  BAD_JSON: { status: 400, title: 'The request body is not valid JSON' },
  BAD_CONSISTENCY_TOKEN: { status: 400, title: 'The Consistency-Token header is malformed or was tampered with' },
  UNAUTHORIZED: { status: 401, title: 'Authentication is required' },
  FORBIDDEN: { status: 403, title: 'The credentials do not allow this action' },
  NOT_FOUND: { status: 404, title: 'The resource does not exist' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'The method is not allowed on this route' },
  REQUEST_TIMEOUT: { status: 408, title: 'The request did not arrive whole in time' },
  OUT_OF_STOCK: { status: 409, title: 'Not enough stock for the order' },
  CONFLICT: { status: 409, title: 'The request conflicts with the current state of a resource' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this Idempotency-Key is still being processed' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be application/json' },
  IDEMPOTENCY_MISMATCH: { status: 422, title: 'The Idempotency-Key was already used with a different request' },
  UNKNOWN_REFERENCE: { status: 422, title: 'The request refers to a resource that does not exist' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  HEADERS_TOO_LARGE: { status: 431, title: 'The request line or headers are too large' },
  INTERNAL: { status: 500, title: 'Internal error' },
  POOL_TIMEOUT: { status: 503, title: 'No database connection became free in time' },
  POOL_QUEUE_FULL: { status: 503, title: 'Too many requests are already waiting for a database connection' },
  POOL_OVERLOADED: { status: 503, title: 'The wait for a database connection is too long; lower-priority requests are shed' },
  POOL_EXHAUSTED: { status: 503, title: 'Every database connection is busy and the pool does not queue' },
  POOL_CLOSED: { status: 503, title: 'The service is shutting down' },
  DB_UNAVAILABLE: { status: 503, title: 'The database is unavailable' },
  TRANSACTION_CONFLICT: { status: 503, title: 'A concurrent transaction got in the way; retry' },
  QUERY_TIMEOUT: { status: 503, title: 'The database query took too long and was cancelled' },
  DEADLINE_EXCEEDED: { status: 503, title: "The request's deadline passed before it could be served" },
  OVERLOADED: { status: 503, title: 'The service is shedding load' },
  NOT_READY: { status: 503, title: 'The service is not ready' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** Every code, for documentation checks and exhaustive tests. */
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
