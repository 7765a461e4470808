/**
 * Response schemas of the store's resources, shared by the routes that
 * return them (an order appears both as POST /orders' answer and in a
 * customer's history). Field names and types mirror src/store exactly, so a
 * repository result can be returned as it is.
 */
import { Type } from '@fastify/type-provider-typebox';
import { Id, Timestamp } from './schemas.ts';

const Cents = Type.Integer({ minimum: 0, description: 'Amount in cents.' });

export const ProductSchema = Type.Object(
  {
    id: Id,
    sku: Type.String(),
    name: Type.String(),
    category: Type.String(),
    priceCents: Cents,
    stock: Type.Integer({ minimum: 0 }),
    createdAt: Timestamp,
  },
  { title: 'Product' },
);

export const CustomerSchema = Type.Object(
  { id: Id, email: Type.String(), name: Type.String(), createdAt: Timestamp },
  { title: 'Customer' },
);

export const OrderItemSchema = Type.Object(
  { productId: Id, name: Type.String(), quantity: Type.Integer({ minimum: 1 }), unitPriceCents: Cents },
  { title: 'OrderItem' },
);

export const OrderSchema = Type.Object(
  {
    id: Id,
    customerId: Id,
    totalCents: Cents,
    createdAt: Timestamp,
    items: Type.Array(OrderItemSchema, { description: 'Ordered by productId.' }),
  },
  { title: 'Order' },
);

export const TopProductSchema = Type.Object(
  {
    productId: Id,
    sku: Type.String(),
    name: Type.String(),
    units: Type.Integer({ minimum: 0, description: 'Units sold in the window.' }),
    revenueCents: Cents,
  },
  { title: 'TopProduct' },
);
