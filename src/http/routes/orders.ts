/**
 * POST /api/orders: place an order, at most once per Idempotency-Key.
 *
 * 201 with the order; a replay of an earlier request with the same key and
 * body answers 201 with the same order and `Idempotent-Replayed: true`.
 * Refusals: 400 (invalid body, a product listed twice), 409 OUT_OF_STOCK,
 * 422 UNKNOWN_REFERENCE (no such customer or product, with `field`),
 * 422 IDEMPOTENCY_MISMATCH (key reused with another body by the same caller);
 * with read replicas, a `Consistency-Token` for reading this order's effects;
 * 401/403 without a key with scope `write`, which may order for any customer.
 *
 * Idempotency keys are scoped to the caller: the API key's name, or with
 * API_KEYS unset the client address (docs/SECURITY.md, "Idempotency scope").
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { OrderStore } from '../../store/orders.ts';
import { OrderSchema } from '../models.ts';
import { Id, problems } from '../schemas.ts';
import { contextOf } from '../context.ts';
import { sendConsistencyToken, type ReadConsistency } from '../consistency.ts';
import { requireKey } from '../auth/security.ts';
import type { FastifyRequest } from 'fastify';

/**
 * Who owns an Idempotency-Key: the verified API key's name (writes need one
 * when API_KEYS is set), else the client address. Prefixed, so a key named
 * like an address is still another caller.
 */
export function idempotencyCaller(request: Pick<FastifyRequest, 'apiKey' | 'ip'>): string {
  return request.apiKey !== null ? `key:${request.apiKey.name}` : `ip:${request.ip}`;
}

const NewOrderBody = Type.Object(
  {
    customerId: Id,
    items: Type.Array(
      Type.Object({ productId: Id, quantity: Type.Integer({ minimum: 1, maximum: 1000 }) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 100, description: 'Each product at most once.' },
    ),
  },
  { additionalProperties: false },
);

const OrderHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: '^[\\x21-\\x7e]+$',
      description: 'Visible ASCII. Retrying with the same key and body returns the first answer instead of ordering twice.',
    }),
  ),
});

/**
 * @example
 * api.register(orderRoutes({ orders: createOrderStore(pool) }));
 */
export function orderRoutes(deps: { orders: OrderStore; consistency?: ReadConsistency | undefined }): FastifyPluginAsyncTypebox {
  const { orders, consistency } = deps;
  return async function ordersPlugin(app) {
    app.post(
      '/orders',
      {
        schema: {
          tags: ['orders'],
          summary: 'Place an order',
          description: 'For any customer: every write key acts for every customer (back-office model, docs/SECURITY.md).',
          operationId: 'placeOrder',
          security: requireKey('write'),
          headers: OrderHeaders,
          body: NewOrderBody,
          response: { 201: OrderSchema, ...problems(400, 401, 403, 409, 413, 415, 422, 429, 503) },
        },
      },
      async function placeOrder(request, reply) {
        const key = request.headers['idempotency-key'];
        const idempotencyKey = key === undefined ? undefined : { caller: idempotencyCaller(request), key };
        const ctx = contextOf(request);
        const { order, replayed } = await orders.place(ctx, request.body, { idempotencyKey });
        if (replayed) reply.header('idempotent-replayed', 'true');
        // After the commit: a read sending it back never sees older than this order (docs/FAILOVER.md).
        await sendConsistencyToken(reply, ctx, consistency, request.log);
        return reply.code(201).send(order);
      },
    );
  };
}
