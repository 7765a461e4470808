/**
 * @fastify/swagger settings: the document's metadata, server, tags and the
 * API-key scheme that routes name in their `schema.security` (and that
 * auth/security.ts enforces). Registered on the root instance before any
 * route, because it records routes as they are added.
 *
 * The server is relative (`/`): the document is served by the API it
 * describes, so clients resolve paths against wherever they fetched it.
 * `npm run lint:openapi` lints the served document (Redocly, recommended).
 */
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { SECURITY_SCHEMES } from './auth/security.ts';

export { swagger };

/**
 * @example
 * app.register(swagger, openApiOptions());
 */
export function openApiOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Holdfast store API',
        version: '0.1.0',
        description:
          'Errors are `application/problem+json` documents with a stable `code` (see docs/ERRORS.md). ' +
          'Lists are keyset-paginated: pass `nextCursor` back as `cursor`; cursors are bound to the filters they were issued for. ' +
          "Customers and their orders need an API key with scope `read`, placing orders one with scope `write` (see each operation's security).",
      },
      servers: [{ url: '/', description: 'The host serving this document' }],
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: [
        { name: 'operations', description: 'Health and readiness' },
        { name: 'products', description: 'The catalogue (public)' },
        { name: 'customers', description: 'Customers and their order history (API key, scope read)' },
        { name: 'orders', description: 'Placing orders (API key, scope write)' },
        { name: 'reports', description: 'Sales reports (public)' },
      ],
    },
    transformObject: (document) => optionalDefaults('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  };
}

/**
 * A parameter with a default is optional: the validator fills it in. The
 * TypeBox schemas keep such members non-optional so handlers get a number,
 * and @fastify/swagger then publishes them as `required`, which would force
 * every generated client to send `limit` and `days`.
 */
function optionalDefaults<T extends object>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, { parameters?: unknown[] }>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        const p = parameter as { in?: string; required?: boolean; schema?: { default?: unknown } };
        if (p.in !== 'path' && p.required === true && p.schema?.default !== undefined) p.required = false;
      }
    }
  }
  return document;
}
