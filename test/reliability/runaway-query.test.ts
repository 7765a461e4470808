/**
 * Promise: a runaway statement cannot hold the pool hostage. The server
 * cancels it at DB_STATEMENT_TIMEOUT_MS (the client of a request that ran
 * it gets 503 QUERY_TIMEOUT with Retry-After, and its transaction is rolled
 * back); while it runs, other routes keep being served; and its connection
 * comes back to the pool, healthy, instead of being lost.
 *
 * The runaways are `select pg_sleep(30)` run through the app's own pool, as
 * a slow query in a route would, several at once to occupy connections;
 * the HTTP case is an order stuck behind a row lock held by another session.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAppError } from '../../src/errors/app-error.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { describeOutcome, durationOf, fire, startLoad, stopAllLoads, tally, waitFor, type Outcome, type Shot } from './helpers/load.ts';
import { appBackendsWaitingOnLocks } from './helpers/postgres.ts';
import { orderShot, seedStore, startStack, type Stack, type Store, READ_HEADERS } from './helpers/stack.ts';
import { TEST } from '../helpers/context.ts';

const STATEMENT_TIMEOUT_MS = 1000;
const POOL_TIMEOUT_S = 5;
const POOL_MAX = 6;

let stack: Stack;
let store: Store;
let admin: pg.Client;

beforeAll(async () => {
  stack = await startStack({
    DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    DB_POOL_MIN: '2',
    DB_POOL_MAX: String(POOL_MAX),
    DB_POOL_TIMEOUT: String(POOL_TIMEOUT_S),
    // Reads must need a connection for the runaways to compete with them.
    CACHE_ENABLED: 'false',
    // A fixed cap makes "the connections the runaways leave free keep
    // serving" exact; the adaptive limit has its own suite.
    DB_ADAPTIVE_LIMIT: 'false',
  });
  store = await seedStore(stack, { products: 10, customers: 5, stock: 1_000_000 });
  admin = await stack.postgres.admin();
}, 120_000);

afterEach(stopAllLoads);
afterAll(async () => {
  await admin?.end();
  await stack?.close();
});

interface Runaway {
  code: string;
  ms: number;
}

/** Runs `count` statements that would sleep for 30 s, through the app's pool; resolves when all have ended. */
function runaways(count: number): Promise<Runaway[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const started = performance.now();
      try {
        await stack.app.pool.query(TEST, { text: 'select pg_sleep(30)' });
        return { code: 'completed', ms: performance.now() - started };
      } catch (err) {
        return { code: isAppError(err) ? err.code : String(err), ms: performance.now() - started };
      }
    }),
  );
}

function readShot(n: number): Shot {
  const base = stack.base;
  switch (n % 3) {
    case 0:
      return { label: 'list', url: `${base}/api/products?limit=10` };
    case 1:
      return {
        label: 'history',
        url: `${base}/api/customers/${store.customers[n % store.customers.length]}/orders?limit=5`,
        init: { headers: READ_HEADERS },
      };
    default:
      return { label: 'product', url: `${base}/api/products/${store.products[n % store.products.length]}` };
  }
}

describe('a runaway query', () => {
  it('is cancelled at DB_STATEMENT_TIMEOUT_MS while other routes stay served, and its connections come back', async () => {
    const origin = performance.now();
    const pool = stack.app.pool;
    const destroyedBefore = pool.counters.destroyed;
    const load = startLoad({ concurrency: 20, maxDurationMs: 60_000, next: readShot });
    await waitFor('reads being served', () => load.outcomes.filter((o) => o.status === 200).length >= 20, 20_000);

    // Most connections held by runaways: the rest keep serving meanwhile.
    const partStarted = performance.now();
    const part = await runaways(POOL_MAX - 2);
    // Every connection held by runaways: requests wait, and are served once the server cancels them.
    const allStarted = performance.now();
    const all = await runaways(POOL_MAX);
    const allEnded = performance.now();
    await waitFor('reads after the runaways', () => load.outcomes.filter((o) => o.startedAt > allEnded).length >= 20, 20_000);
    const outcomes = await load.stop();

    for (const r of [...part, ...all]) {
      expect(r.code).toBe('QUERY_TIMEOUT');
      // Cancelled by the server at its timeout, not left to run its 30 s.
      expect(r.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
      expect(r.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + POOL_TIMEOUT_S * 1000);
    }

    // Other routes: always answered 200, within the pool's wait bound, also while runaways held connections.
    expect(
      outcomes.filter((o) => o.status !== 200).map((o) => describeOutcome(o, origin)),
      tally(outcomes),
    ).toEqual([]);
    const tooSlow = outcomes.filter((o) => durationOf(o) > POOL_TIMEOUT_S * 1000 + 1000);
    expect(tooSlow.map((o) => describeOutcome(o, origin))).toEqual([]);
    const servedBesideRunaways = outcomes.filter((o) => o.startedAt >= partStarted && o.endedAt <= partStarted + STATEMENT_TIMEOUT_MS - 50);
    expect(servedBesideRunaways.length, 'reads answered while runaways held most connections').toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.startedAt >= allStarted && o.endedAt <= allEnded + 1000).length).toBeGreaterThan(0);

    // Cancelled statements leave healthy connections: none was discarded, none is still leased.
    expect(pool.counters.destroyed - destroyedBefore).toBe(0);
    await waitFor('every connection returned', () => pool.active === 0, 5_000);
    expect(pool.size).toBe(POOL_MAX);
    const { rows } = await admin.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'holdfast' AND query LIKE '%pg_sleep%' AND state = 'active'",
    );
    expect(Number(rows[0]!.n), 'runaways still running on the server').toBe(0);
  }, 90_000);

  it('answers a request stuck in a runaway statement with 503 QUERY_TIMEOUT and Retry-After, applying nothing', async () => {
    const product = await insertProduct(stack.app.pool, { stock: 5 });
    const customerId = await insertCustomer(stack.app.pool);
    const shot = orderShot(stack.base, { customerId, items: [{ productId: product, quantity: 1 }] }, `runaway-${customerId}`);
    const destroyedBefore = stack.app.pool.counters.destroyed;

    // Another session holds the row lock for longer than the statement timeout.
    await admin.query('BEGIN');
    await admin.query('SELECT stock FROM products WHERE id = $1 FOR UPDATE', [product]);
    let refused: Outcome;
    try {
      const pending = fire(shot);
      await appBackendsWaitingOnLocks(admin, 1);
      refused = await pending;
    } finally {
      await admin.query('ROLLBACK');
    }

    expect(refused.status, describeOutcome(refused)).toBe(503);
    expect(refused.code).toBe('QUERY_TIMEOUT');
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(durationOf(refused)).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 50);
    const orders = await admin.query('SELECT 1 FROM orders WHERE customer_id = $1', [customerId]);
    expect(orders.rowCount).toBe(0);
    expect((await admin.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [product])).rows[0]!.stock).toBe(5);
    // The transaction was rolled back on a connection that stays in service.
    expect(stack.app.pool.counters.destroyed - destroyedBefore).toBe(0);

    // The client's retry, once the lock is gone, goes through.
    const retried = await fire(shot);
    expect(retried.status, describeOutcome(retried)).toBe(201);
  }, 30_000);
});
