/**
 * Schema pieces every route shares: ids, pagination, the page envelope and
 * the problem document.
 *
 * They are the single source of truth for three things at once: Ajv validates
 * requests against them, fast-json-stringify serialises responses from them,
 * and @fastify/swagger publishes them as the OpenAPI document.
 */
import { Type, type TSchema } from '@fastify/type-provider-typebox';
import { ERROR_CODES } from '../errors/catalogue.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';

/** Ids are bigint in Postgres; anything a JS number holds exactly is accepted. */
export const Id = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

/**
 * `{ id }` path parameters.
 *
 * @example
 * app.get('/products/:id', { schema: { params: IdParams } }, (req) => products.get(req.params.id));
 */
export const IdParams = Type.Object({ id: Id });

/**
 * A string that is one of `values`, as `{ type: 'string', enum }`.
 *
 * Why not `Type.Union` of literals: that becomes `anyOf`, and
 * fast-json-stringify serialises an `anyOf` by running an Ajv validator per
 * branch on every response; `enum` on a string is written directly.
 *
 * @example
 * const Status = StringEnum(['ok', 'degraded'] as const, { description: '…' });
 */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

/**
 * `?limit=&cursor=`, spread into a route's querystring schema.
 *
 * @example
 * querystring: Type.Object({ category: Type.Optional(Type.String()), ...PageQuery })
 */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: 'Items per page.' }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'The `nextCursor` of the previous page, as returned.' })),
};

/**
 * A free-text filter: printable, no control characters (Postgres refuses NUL
 * in text, and nothing legitimate needs the rest).
 */
export function filterText(description: string) {
  return Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]*$', description });
}

/**
 * The page envelope: `{ items, nextCursor }`.
 *
 * @example
 * response: { 200: Page(Product) }
 */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    // A type array, not an anyOf: serialised with a typeof check instead of a validator per branch.
    nextCursor: Type.Unsafe<string | null>({
      type: ['string', 'null'],
      description: 'Pass as `cursor` for the next page; null on the last page.',
    }),
  });
}

/** ISO 8601 timestamp with microseconds, UTC. */
export const Timestamp = Type.String({ format: 'date-time', examples: ['2025-01-31T09:30:00.123456Z'] });

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ examples: ['urn:holdfast:error:VALIDATION_FAILED'] }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ enum: ERROR_CODES, description: 'Branch on this; see docs/ERRORS.md.' }),
    instance: Type.String({ description: 'The request path.' }),
    requestId: Type.String({ description: 'Also sent as X-Request-Id; quote it when reporting a problem.' }),
    field: Type.Optional(Type.String({ description: 'The request field at fault, e.g. `query.limit`.' })),
    retryAfterSeconds: Type.Optional(Type.Integer()),
  },
  { additionalProperties: true, description: 'RFC 9457 problem document.' },
);

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'The request is malformed (VALIDATION_FAILED, BAD_JSON, BAD_CURSOR).',
  401: 'No valid API key (UNAUTHORIZED); see WWW-Authenticate.',
  403: 'The API key is valid but its scope does not allow this (FORBIDDEN).',
  404: 'Not found.',
  409: 'Conflict with the current state.',
  413: 'Body too large.',
  415: 'Body is not application/json.',
  422: 'Well-formed but refers to something that does not exist, or reuses an Idempotency-Key.',
  429: 'Rate limited (RATE_LIMITED); honour Retry-After.',
  431: 'The request line and headers exceed 16 KiB (HEADERS_TOO_LARGE).',
  503: 'Temporarily unable to answer; honour Retry-After.',
};

/**
 * Documents error answers for `statuses` (and 500 always) as problem+json.
 * They are sent pre-serialised, so these entries only feed the OpenAPI document.
 *
 * @example
 * response: { 200: Product, ...problems(400, 404, 503) }
 */
export function problems(...statuses: number[]) {
  const out: Record<number, { description: string; content: Record<string, { schema: typeof ProblemSchema }> }> = {};
  for (const status of [...statuses, 500]) {
    out[status] = {
      description: STATUS_TEXT[status] ?? 'Internal error.',
      content: { [PROBLEM_CONTENT_TYPE.split(';')[0]!]: { schema: ProblemSchema } },
    };
  }
  return out;
}
