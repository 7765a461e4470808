/**
 * Promise: when Postgres kills the pool's connections (pg_terminate_backend,
 * a failover, a proxy dropping sockets), reads do not notice and writes are
 * never applied twice.
 *
 * - An idempotent read whose connection dies is retried once on a fresh
 *   connection: under read load, killing every pool connection, again and
 *   again, fails no GET.
 * - A write is never retried by the service: a POST whose connection is
 *   killed mid-transaction answers 503 and leaves nothing behind, and the
 *   client's retry with the same Idempotency-Key places it exactly once.
 *
 * The kills come from a separate admin connection and select the app's
 * backends by application_name ('holdfast'), on a Postgres this suite owns.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { acknowledgedOrders, expectStoreConsistent } from './helpers/invariants.ts';
import {
  describeOutcome,
  fire,
  pause,
  startLoad,
  stopAllLoads,
  tally,
  waitFor,
  type Load,
  type Outcome,
  type Shot,
} from './helpers/load.ts';
import { appBackendsWaitingOnLocks, terminateAppConnections } from './helpers/postgres.ts';
import { orderShot, seedStore, startStack, type Stack, type Store, READ_HEADERS } from './helpers/stack.ts';

let stack: Stack;
let store: Store;
let admin: pg.Client;

beforeAll(async () => {
  stack = await startStack({
    // Every connection open and warm: a kill then catches idle ones whose
    // death is not yet read off their sockets, the trap a retry must avoid.
    DB_POOL_MIN: '8',
    DB_POOL_MAX: '8',
    DB_POOL_TIMEOUT: '5',
    // Reads must reach the database for a killed connection to matter.
    CACHE_ENABLED: 'false',
  });
  store = await seedStore(stack, { products: 20, customers: 10, stock: 1_000_000 });
  admin = await stack.postgres.admin();
}, 120_000);

afterEach(stopAllLoads);
afterAll(async () => {
  await admin?.end();
  await stack?.close();
});

/**
 * Kills every app connection, `rounds` times, `everyMs` apart; resolves with
 * the count killed per round. With `load`, each round also waits until every
 * request that was in flight at the previous kill has ended: one retry
 * promises to survive one kill, not a second one landing on the retry.
 */
async function killRepeatedly(rounds: number, everyMs: number, load?: Load): Promise<number[]> {
  const killed: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await pause(everyMs);
    killed.push(await terminateAppConnections(admin));
    const at = performance.now();
    if (load !== undefined)
      await waitFor('requests in flight at the kill to end', () => (load.oldestInFlight() ?? Infinity) > at, 20_000, 10);
  }
  return killed;
}

function readShot(n: number): Shot {
  const base = stack.base;
  const product = store.products[n % store.products.length]!;
  const customer = store.customers[n % store.customers.length]!;
  switch (n % 4) {
    case 0:
      return { label: 'list', url: `${base}/api/products?limit=20` };
    case 1:
      return { label: 'history', url: `${base}/api/customers/${customer}/orders?limit=5`, init: { headers: READ_HEADERS } };
    default:
      return { label: 'product', url: `${base}/api/products/${product}` };
  }
}

describe('every pool connection killed with pg_terminate_backend', () => {
  it('fails no GET under read load: each read whose connection dies is retried on a fresh one', async () => {
    const origin = performance.now();
    const destroyedBefore = stack.app.pool.counters.destroyed;
    const failedBefore = stack.failedStatements.length;
    const load = startLoad({ concurrency: 20, maxDurationMs: 45_000, next: readShot });
    await waitFor('reads being served', () => load.outcomes.length >= 20, 20_000);
    const killed = await killRepeatedly(16, 150, load);
    const lastKill = performance.now();
    await waitFor('reads after the last kill', () => load.outcomes.filter((o) => o.startedAt > lastKill).length >= 20, 20_000);
    const outcomes = await load.stop();

    const total = killed.reduce((a, b) => a + b, 0);
    // A round may find nothing to kill when it lands while the pool is reconnecting.
    expect(total, `connections killed per round: ${killed.join(', ')}`).toBeGreaterThanOrEqual(stack.app.pool.min);
    expect(stack.app.pool.counters.destroyed - destroyedBefore).toBeGreaterThanOrEqual(total);
    // Reads really were running on the connections that died, so the retry was put to work…
    const terminated = stack.failedStatements.slice(failedBefore).filter((f) => (f.error as { code?: string }).code === '57P01');
    expect(terminated.length).toBeGreaterThan(0);
    // …and no client saw it.
    expect(
      outcomes.filter((o) => o.status !== 200).map((o) => describeOutcome(o, origin)),
      tally(outcomes),
    ).toEqual([]);
    // And the pool refills to its minimum by itself, with no restart.
    await waitFor('the pool back at its minimum', () => stack.app.pool.size >= stack.app.pool.min, 5_000);
  }, 60_000);

  it('never applies a POST twice: killed mid-transaction it leaves nothing, and its retry places it once', async () => {
    const product = await insertProduct(stack.app.pool, { stock: 10, priceCents: 700 });
    const customerId = await insertCustomer(stack.app.pool);
    const order = { customerId, items: [{ productId: product, quantity: 2 }] };
    const shot = orderShot(stack.base, order, `killed-mid-transaction-${customerId}`);
    const ordersOfCustomer = async () =>
      Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE customer_id = $1', [customerId])).rows[0]!.n);
    const stock = async () => (await admin.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [product])).rows[0]!.stock;

    // Hold the product's row lock so the order's transaction is caught between BEGIN and COMMIT.
    await admin.query('BEGIN');
    await admin.query('SELECT stock FROM products WHERE id = $1 FOR UPDATE', [product]);
    const pending = fire(shot);
    let refused: Outcome;
    try {
      const [pid] = await appBackendsWaitingOnLocks(admin, 1);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      refused = await pending;
    } finally {
      await admin.query('ROLLBACK');
    }

    expect(refused.status, describeOutcome(refused)).toBe(503);
    expect(refused.code).toBe('DB_UNAVAILABLE');
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await ordersOfCustomer()).toBe(0);
    expect(await stock()).toBe(10);
    const keys = await admin.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [
      (shot.init!.headers as Record<string, string>)['idempotency-key'],
    ]);
    expect(keys.rowCount, 'the Idempotency-Key claim was rolled back with the order').toBe(0);

    // The client retries with the same key: placed once, then replayed.
    const placed = await fire(shot);
    expect(placed.status, describeOutcome(placed)).toBe(201);
    const replayed = await fire(shot);
    expect(replayed.status).toBe(201);
    expect(replayed.headers?.get('idempotent-replayed')).toBe('true');
    expect(replayed.body.id).toBe(placed.body.id);
    expect(await ordersOfCustomer()).toBe(1);
    expect(await stock()).toBe(8);
  }, 30_000);

  it('places each order exactly once under write load while every connection is killed again and again', async () => {
    const origin = performance.now();
    const before = Number((await admin.query<{ n: string }>('SELECT count(*) AS n FROM orders')).rows[0]!.n);
    let stop = false;
    const attempts: Outcome[] = [];
    const finals: Outcome[] = [];
    const keys: string[] = [];

    // Each writer is a well-behaved client: a new key per order, the same key
    // on every retry of it, retrying only a 503.
    async function writer(w: number): Promise<void> {
      for (let i = 0; !stop; i++) {
        const key = `kill-burst-${w}-${i}`;
        keys.push(key);
        const n = w * 1000 + i;
        const shot = orderShot(
          stack.base,
          {
            customerId: store.customers[n % store.customers.length]!,
            items: [
              { productId: store.products[n % store.products.length]!, quantity: 1 + (i % 3) },
              { productId: store.products[(n + 7) % store.products.length]!, quantity: 1 },
            ],
          },
          key,
        );
        let outcome = await fire(shot);
        attempts.push(outcome);
        for (let retry = 0; outcome.status === 503 && retry < 50; retry++) {
          await pause(50);
          outcome = await fire(shot);
          attempts.push(outcome);
        }
        finals.push(outcome);
      }
    }
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    await pause(300);
    const killed = await killRepeatedly(8, 250);
    await pause(300);
    stop = true;
    await Promise.all(writers);

    expect(killed.some((n) => n > 0)).toBe(true);
    // The kills did land on writes in flight, and each was refused as 503, not applied silently.
    expect(attempts.filter((o) => o.status === 503).length, tally(attempts)).toBeGreaterThan(0);
    expect(
      attempts.filter((o) => o.status !== 201 && o.status !== 503).map((o) => describeOutcome(o, origin)),
      tally(attempts),
    ).toEqual([]);
    expect(finals.filter((o) => o.status !== 201).map((o) => describeOutcome(o, origin))).toEqual([]);

    const acknowledged = acknowledgedOrders(finals);
    expect(acknowledged.length).toBe(keys.length);
    expect(new Set(acknowledged.map((o) => o.id)).size, 'distinct orders for distinct keys').toBe(keys.length);
    const after = await expectStoreConsistent(admin, store.initialStock, acknowledged);
    expect(after - before, 'orders created: exactly one per key').toBe(keys.length);
  }, 60_000);
});
