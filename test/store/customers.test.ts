import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Statement } from '../../src/db/types.ts';
import { createPool, type ConnectionPool } from '../../src/db/pool/pool.ts';
import { createCustomerStore, type CustomerStore } from '../../src/store/customers.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { testPoolOptions } from '../helpers/app.ts';
import { insertCustomer, insertOrder, insertProduct } from '../helpers/store-fixtures.ts';
import { TEST } from '../helpers/context.ts';

let database: TestDatabase;
let pool: ConnectionPool;
let customers: CustomerStore;
const statements: Statement[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pool = createPool(testPoolOptions(database.url, { onQuery: (e) => statements.push(e.statement) }));
  await pool.start();
  customers = createCustomerStore(pool);
});
afterAll(async () => {
  await pool?.end(0);
  await database?.drop();
});

describe('customer store', () => {
  it('gets a customer, or undefined', async () => {
    const id = await insertCustomer(pool, { name: 'Grace', email: 'grace@example.test' });
    expect(await customers.get(TEST, id)).toEqual({
      id,
      name: 'Grace',
      email: 'grace@example.test',
      createdAt: expect.stringMatching(/Z$/),
    });
    expect(await customers.get(TEST, id + 1000)).toBeUndefined();
  });

  it('lists orders with lines and names in one query when the page is not empty', async () => {
    const customer = await insertCustomer(pool);
    const product = await insertProduct(pool, { name: 'Chisel' });
    const orderId = await insertOrder(
      pool,
      customer,
      [{ productId: product, quantity: 4, unitPriceCents: 250 }],
      '2024-02-02T02:02:02.020202Z',
    );
    statements.length = 0;
    const page = await customers.listOrders(TEST, customer, { limit: 10 });
    expect(statements).toHaveLength(1);
    expect(page).toEqual({
      items: [
        {
          id: orderId,
          customerId: customer,
          totalCents: 1000,
          createdAt: '2024-02-02T02:02:02.020202Z',
          items: [{ productId: product, name: 'Chisel', quantity: 4, unitPriceCents: 250 }],
        },
      ],
      next: null,
    });
  });

  it('tells an unknown customer (undefined) from one without orders (empty page)', async () => {
    const customer = await insertCustomer(pool);
    expect(await customers.listOrders(TEST, customer, { limit: 10 })).toEqual({ items: [], next: null });
    expect(await customers.listOrders(TEST, customer + 1000, { limit: 10 })).toBeUndefined();
  });

  it('returns the key of the last order when more follow', async () => {
    const customer = await insertCustomer(pool);
    const product = await insertProduct(pool);
    const line = [{ productId: product, quantity: 1, unitPriceCents: 1 }];
    const older = await insertOrder(pool, customer, line, '2024-01-01T00:00:00Z');
    const newer = await insertOrder(pool, customer, line, '2024-01-02T00:00:00Z');
    const first = await customers.listOrders(TEST, customer, { limit: 1 });
    expect(first?.items.map((o) => o.id)).toEqual([newer]);
    expect(first?.next).toEqual({ createdAt: '2024-01-02T00:00:00.000000Z', id: newer });
    const second = await customers.listOrders(TEST, customer, { limit: 1, after: first!.next! });
    expect(second?.items.map((o) => o.id)).toEqual([older]);
    expect(second?.next).toBeNull();
  });
});
