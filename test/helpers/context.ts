/**
 * Contexts for tests (src/context/context.ts): `TEST` for statements no
 * request owns (fixtures, setup, assertions), `testContext()` for a fresh
 * request context with its own query account, to assert what was charged.
 *
 * @example
 * await pool.query(TEST, { text: 'TRUNCATE products' });
 * const ctx = testContext('GET /api/products/:id');
 * await products.get(ctx, 7);
 * expect(ctx.accounts[0]!.queries).toBe(1);
 */
import { backgroundContext, requestContext, type Context } from '../../src/context/context.ts';

/** Charged to no one. */
export const TEST: Context = backgroundContext('test');

let next = 0;

/** A request context with a unique id and one account. */
export function testContext(route = 'TEST /test'): Context {
  next++;
  return requestContext(`test-${next}`, route);
}
