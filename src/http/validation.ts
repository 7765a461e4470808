/**
 * Request validation: Ajv over the routes' TypeBox schemas.
 *
 * Params, query and headers arrive as strings. Ajv's own coercion is too
 * generous for ids and limits (it turns '0x10' into 16 and '' into 0), and
 * TypeBox's truncates '1.5' to 1, so the only coercion here is ours: a
 * property the schema types as integer is converted when, and only when, it
 * is written as a plain decimal integer; anything else stays a string and
 * fails the type check, naming the field. A JSON body already has types and
 * is not coerced at all: `"customerId": "7"` is a client bug to report.
 * Nothing is silently removed either, so an unknown body member fails where
 * the schema forbids it.
 */
import { Ajv, type ErrorObject, type Options } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const OPTIONS: Options = {
  useDefaults: true,
  removeAdditional: false,
  coerceTypes: false,
  // Stop at the first error: allErrors on hostile input is a known DoS vector.
  allErrors: false,
  // TypeBox emits standard keywords only; a typo in a schema should fail at start.
  strict: true,
};

const DECIMAL_INTEGER = /^-?\d{1,20}$/;

/** Top-level properties typed integer: params, query and headers are flat. */
function integerProperties(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  return Object.keys(properties).filter((name) => properties[name]?.type === 'integer');
}

type Result = { value: unknown } | { error: ErrorObject[] };

/**
 * Compiles each route schema part; Fastify calls it once per route and part.
 *
 * @example
 * app.setValidatorCompiler(createValidatorCompiler());
 */
export function createValidatorCompiler(): FastifySchemaCompiler<unknown> {
  const ajv = new Ajv(OPTIONS);
  return function compileValidator({ schema, httpPart }) {
    const validate = ajv.compile(schema as object);
    if (httpPart === 'body') return validate;
    const integers = integerProperties(schema);
    return function validateStrings(data: unknown): Result {
      if (data !== null && typeof data === 'object') {
        const record = data as Record<string, unknown>;
        for (const name of integers) {
          const value = record[name];
          if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) record[name] = Number(value);
        }
      }
      return validate(data) ? { value: data } : { error: validate.errors ?? [] };
    };
  };
}
