/**
 * Promise: Postgres restarting under load costs clients a deliberate,
 * fast 503 and nothing else. No request hangs (each ends within
 * DB_POOL_TIMEOUT + 1 s); while the database is down the API answers 503
 * with Retry-After and readiness answers 503; within 2 s of the database's
 * return everything answers again, without restarting the service; and no
 * acknowledged order is lost or half-written.
 */
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgedOrders, expectStoreConsistent } from './helpers/invariants.ts';
import {
  describeOutcome,
  durationOf,
  fire,
  pause,
  startLoad,
  stopAllLoads,
  tally,
  waitFor,
  type Outcome,
  type Shot,
} from './helpers/load.ts';
import { orderShot, seedStore, startStack, type Stack, type Store, READ_HEADERS } from './helpers/stack.ts';

const POOL_TIMEOUT_S = 3;
/** The promise: no request outlives the pool's wait bound by more than a second. */
const HANG_BOUND_MS = POOL_TIMEOUT_S * 1000 + 1000;
const RECOVERY_MS = 2000;
/** The readiness answer is cached for up to 1 s (src/http/readiness.ts). */
const READINESS_CACHE_MS = 1000;

let stack: Stack;
let store: Store;

beforeAll(async () => {
  stack = await startStack({
    DB_POOL_TIMEOUT: String(POOL_TIMEOUT_S),
    DB_POOL_MIN: '2',
    DB_POOL_MAX: '8',
    // Every request must meet the database: a cache hit would answer 200
    // during the outage and hide what the pool does.
    CACHE_ENABLED: 'false',
  });
  store = await seedStore(stack, { products: 20, customers: 10, stock: 1_000_000 });
}, 120_000);

afterEach(stopAllLoads);
afterAll(() => stack?.close());

function mixedShot(n: number): Shot {
  const base = stack.base;
  const product = store.products[n % store.products.length]!;
  const customer = store.customers[n % store.customers.length]!;
  switch (n % 10) {
    case 0:
      return orderShot(base, { customerId: customer, items: [{ productId: product, quantity: 1 + (n % 3) }] }, `restart-${n}`);
    case 1:
    case 2:
      return { label: 'list', url: `${base}/api/products?limit=20` };
    case 3:
      return { label: 'history', url: `${base}/api/customers/${customer}/orders?limit=5`, init: { headers: READ_HEADERS } };
    default:
      return { label: 'product', url: `${base}/api/products/${product}` };
  }
}

describe('Postgres restarted mid-load', () => {
  it('answers fast 503s while it is down, recovers within 2 s of its return, and loses nothing', async () => {
    const origin = performance.now();
    const load = startLoad({ concurrency: 20, maxDurationMs: 45_000, next: mixedShot });
    const ready = startLoad({
      concurrency: 1,
      maxDurationMs: 45_000,
      pauseMs: 50,
      next: () => ({ label: 'ready', url: `${stack.base}/api/ready` }),
    });
    // Phases end on evidence, not on fixed sleeps, so a slow runner only makes the test slower.
    const count = (list: readonly Outcome[], where: (o: Outcome) => boolean) => list.filter(where).length;

    await waitFor('the service serving before the fault', () => count(load.outcomes, (o) => o.status === 200) >= 20, 20_000);
    const stopping = performance.now();
    await stack.postgres.stop();
    const down = performance.now();
    await pause(1500);
    await waitFor(
      'answers while the database is down',
      () =>
        count(load.outcomes, (o) => o.startedAt >= down) >= 10 &&
        count(ready.outcomes, (o) => o.startedAt >= down + READINESS_CACHE_MS) >= 3,
      20_000,
    );
    const restarting = performance.now();
    await stack.postgres.start();
    const back = performance.now();
    await waitFor(
      'answers after the recovery bound',
      () =>
        count(load.outcomes, (o) => o.startedAt >= back + RECOVERY_MS) >= 20 &&
        count(ready.outcomes, (o) => o.startedAt >= back + RECOVERY_MS) >= 3,
      20_000,
    );
    const api = await load.stop();
    const probes = await ready.stop();
    const all = [...api, ...probes];
    const show = (list: readonly Outcome[]) => list.map((o) => describeOutcome(o, origin));

    // Before the fault the service was really serving.
    expect(
      count(api, (o) => o.endedAt < stopping && o.status === 200),
      tally(api),
    ).toBeGreaterThanOrEqual(20);

    // No hang, no cut connection.
    expect(show(all.filter((o) => o.status === 0 || durationOf(o) > HANG_BOUND_MS))).toEqual([]);

    // Every refusal is a deliberate 503 with Retry-After; nothing else fails.
    const unexpected = all.filter((o) => (o.label === 'ready' ? ![200, 503].includes(o.status) : ![200, 201, 503].includes(o.status)));
    expect(show(unexpected), tally(all)).toEqual([]);
    const refusals = all.filter((o) => o.status === 503);
    expect(show(refusals.filter((o) => !(Number(o.retryAfter) >= 1) || o.code === undefined))).toEqual([]);
    expect(new Set(refusals.map((o) => o.code))).toEqual(
      new Set(refusals.map((o) => o.code).filter((c) => ['DB_UNAVAILABLE', 'POOL_TIMEOUT', 'NOT_READY'].includes(c!))),
    );

    // While it is down: the API answers 503, and so does readiness once its cache has expired.
    const whileDown = api.filter((o) => o.startedAt >= down && o.endedAt <= restarting);
    expect(whileDown.length).toBeGreaterThanOrEqual(10);
    expect(show(whileDown.filter((o) => o.status !== 503))).toEqual([]);
    const readyWhileDown = probes.filter((o) => o.startedAt >= down + READINESS_CACHE_MS && o.endedAt <= restarting);
    expect(readyWhileDown.length).toBeGreaterThanOrEqual(3);
    expect(show(readyWhileDown.filter((o) => o.status !== 503 || o.code !== 'NOT_READY'))).toEqual([]);

    // Within 2 s of its return, everything answers again, from the same process.
    const afterRecovery = all.filter((o) => o.startedAt >= back + RECOVERY_MS);
    expect(count(afterRecovery, (o) => o.label !== 'ready')).toBeGreaterThanOrEqual(20);
    expect(count(afterRecovery, (o) => o.label === 'ready')).toBeGreaterThanOrEqual(3);
    expect(show(afterRecovery.filter((o) => o.status !== 200 && o.status !== 201))).toEqual([]);
    const lastFailure = Math.max(back, ...all.filter((o) => o.startedAt >= back && o.status >= 500).map((o) => o.startedAt));
    expect(lastFailure - back, 'time from the database’s return to the last failed request').toBeLessThan(RECOVERY_MS);
    await waitFor('the pool back at its minimum', () => stack.app.pool.size >= stack.app.pool.min, 5_000);

    // A 503 on a write says nothing about whether it was applied (the
    // connection may have died after COMMIT), so the client retries it with its
    // Idempotency-Key, as docs/ERRORS.md tells it to: each retry must either
    // place the order or replay the one already placed, never a second one.
    const retried: Outcome[] = [];
    for (const refused of api.filter((o) => o.label === 'order' && o.status === 503)) retried.push(await fire(refused.shot));
    expect(show(retried.filter((o) => o.status !== 201))).toEqual([]);
    const sentKeys = new Set(
      api.filter((o) => o.label === 'order').map((o) => (o.shot.init!.headers as Record<string, string>)['idempotency-key']),
    );

    // Every order answered 201, before, during or after the restart, is there, whole, and only once.
    const admin: pg.Client = await stack.postgres.admin();
    try {
      const acknowledged = acknowledgedOrders([...api, ...retried]);
      expect(acknowledged.length).toBeGreaterThan(0);
      const orders = await expectStoreConsistent(admin, store.initialStock, acknowledged);
      expect(orders).toBe(sentKeys.size);
      expect(new Set(acknowledged.map((o) => o.id)).size).toBe(sentKeys.size);
    } finally {
      await admin.end();
    }
  }, 90_000);
});
