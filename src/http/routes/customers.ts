/**
 * GET /api/customers/:id and GET /api/customers/:id/orders (the customer's
 * orders, newest first, each with its lines and product names).
 *
 * Both need an API key with scope `read` (or `write`): they carry personal
 * data. Any key reads any customer (back-office model, docs/SECURITY.md).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AppError } from '../../errors/app-error.ts';
import type { CustomerStore } from '../../store/customers.ts';
import type { CursorCodec } from '../cursor.ts';
import { fromTimeKey, isTimeKey, toTimeKey } from '../keys.ts';
import { CustomerSchema, OrderSchema } from '../models.ts';
import { page } from '../pagination.ts';
import { IdParams, Page, PageQuery, problems } from '../schemas.ts';
import { contextOf } from '../context.ts';
import { requireKey } from '../auth/security.ts';

/**
 * @example
 * api.register(customerRoutes({ customers: createCustomerStore(pool), cursors }));
 */
export function customerRoutes(deps: { customers: CustomerStore; cursors: CursorCodec }): FastifyPluginAsyncTypebox {
  const { customers, cursors } = deps;
  return async function customersPlugin(app) {
    app.get(
      '/customers/:id',
      {
        schema: {
          tags: ['customers'],
          summary: 'One customer',
          operationId: 'getCustomer',
          security: requireKey('read'),
          params: IdParams,
          response: { 200: CustomerSchema, ...problems(400, 401, 404, 429, 503) },
        },
      },
      async function getCustomer(request) {
        const customer = await customers.get(contextOf(request), request.params.id);
        if (customer === undefined) throw new AppError('NOT_FOUND', `customer ${request.params.id} does not exist`);
        return customer;
      },
    );

    app.get(
      '/customers/:id/orders',
      {
        schema: {
          tags: ['customers'],
          summary: "A customer's orders, newest first, with their items",
          operationId: 'listCustomerOrders',
          security: requireKey('read'),
          params: IdParams,
          querystring: Type.Object(PageQuery),
          response: { 200: Page(OrderSchema), ...problems(400, 401, 404, 429, 503) },
        },
      },
      async function listCustomerOrders(request, reply) {
        const customerId = request.params.id;
        const { limit, cursor } = request.query;
        const filters = { customerId };
        const after = cursor === undefined ? undefined : fromTimeKey(cursors.decode('customer-orders', filters, cursor, isTimeKey));
        const result = await customers.listOrders(contextOf(request), customerId, { limit, after });
        if (result === undefined) throw new AppError('NOT_FOUND', `customer ${customerId} does not exist`);
        const next = result.next === null ? null : cursors.encode('customer-orders', filters, toTimeKey(result.next));
        return page(request, reply, result.items, next);
      },
    );
  };
}
