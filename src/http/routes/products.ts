/**
 * GET /api/products (filtered, keyset-paginated, newest first) and
 * GET /api/products/:id.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors/app-error.ts';
import type { ProductStore } from '../../store/products.ts';
import type { CursorCodec } from '../cursor.ts';
import { fromTimeKey, isTimeKey, toTimeKey } from '../keys.ts';
import { ProductSchema } from '../models.ts';
import { page } from '../pagination.ts';
import { IdParams, Page, PageQuery, filterText, problems } from '../schemas.ts';
import { contextOf } from '../context.ts';
import { PUBLIC } from '../auth/security.ts';

const ListQuery = Type.Object({
  category: Type.Optional(filterText('Exact category.')),
  q: Type.Optional(filterText('Case-insensitive substring of the name; `%` and `_` match themselves.')),
  ...PageQuery,
});

/**
 * @example
 * api.register(productRoutes({ products: createProductStore(pool), cursors }));
 */
export function productRoutes(deps: { products: ProductStore; cursors: CursorCodec }): FastifyPluginAsyncTypebox {
  const { products, cursors } = deps;
  return async function productsPlugin(app) {
    app.get(
      '/products',
      {
        schema: {
          tags: ['products'],
          summary: 'List products, newest first',
          operationId: 'listProducts',
          security: PUBLIC,
          querystring: ListQuery,
          response: { 200: Page(ProductSchema), ...problems(400, 429, 503) },
        },
      },
      async function listProducts(request, reply) {
        const { category, q, limit, cursor } = request.query;
        const filters = { category, q };
        const after = cursor === undefined ? undefined : fromTimeKey(cursors.decode('products', filters, cursor, isTimeKey));
        const { items, next } = await products.list(contextOf(request), { category, q, limit, after });
        return page(request, reply, items, next === null ? null : cursors.encode('products', filters, toTimeKey(next)));
      },
    );

    app.get(
      '/products/:id',
      {
        schema: {
          tags: ['products'],
          summary: 'One product',
          operationId: 'getProduct',
          security: PUBLIC,
          params: IdParams,
          response: { 200: ProductSchema, ...problems(400, 404, 429, 503) },
        },
      },
      async function getProduct(request) {
        const product = await products.get(contextOf(request), request.params.id);
        if (product === undefined) throw new AppError('NOT_FOUND', `product ${request.params.id} does not exist`);
        return product;
      },
    );
  };
}
