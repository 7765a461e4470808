/**
 * @fastify/swagger settings: the document's metadata and tags. Registered on
 * the root instance before any route, because it records routes as they are
 * added.
 */
import swagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger';

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
          'Lists are keyset-paginated: pass `nextCursor` back as `cursor`; cursors are bound to the filters they were issued for.',
      },
      tags: [
        { name: 'operations', description: 'Health and readiness' },
        { name: 'products' },
        { name: 'customers' },
        { name: 'orders' },
        { name: 'reports' },
      ],
    },
  };
}
