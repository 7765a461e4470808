import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { insertProducts } from '../../helpers/store-fixtures.ts';
import { parseServerTiming } from '../../profiler/harness.ts';

// Concurrent GET /api/products/:id share statements (src/store/batch/loader.ts);
// each client still sees its own product and the read it waited for.

let app: TestApp;
let ids: number[];

beforeAll(async () => {
  // The cache off: every get reaches the store, as in the bench.
  app = await startTestApp({ env: { CACHE_ENABLED: 'false', DB_BATCH_MAX: '64' } });
  ids = await insertProducts(app.pool, 60, (i) => `2024-03-01T00:00:${String(i).padStart(2, '0')}Z`, 'batched-http');
});
afterAll(() => app?.close());

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{loader="product"}`));
  if (line === undefined) throw new Error(`${name} missing from /metrics`);
  return Number(line.split(' ').at(-1));
}

describe('batched product reads over HTTP', () => {
  it('serves 120 concurrent gets with a handful of statements, each response charged one query', async () => {
    const loadsBefore = await metric('holdfast_db_batched_loads_total');
    const batchesBefore = await metric('holdfast_db_batches_total');
    const statementsBefore = app.queryCount();
    // Reads of products only: the lock makes these batches slow, so the plan
    // sampler may EXPLAIN one of them, and that statement is not a batch.
    const productReads = () =>
      app
        .statements()
        .slice(statementsBefore)
        .filter((s) => !s.startsWith('EXPLAIN')).length;
    // A lock makes the database slow for a moment, as under load: the first
    // batches wait for it, and every later get queues into a filling batch.
    const locker = new pg.Client({ connectionString: app.database.url });
    await locker.connect();
    let responses: Response[];
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
      const asked = [...ids, ...ids];
      const pending = Promise.all(asked.map((id) => fetch(`${app.baseUrl}/api/products/${id}`)));
      await expect.poll(() => metric('holdfast_db_batched_loads_total'), { timeout: 5000 }).toBe(loadsBefore + 120);
      await locker.query('COMMIT');
      responses = await pending;
      const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ id: number }>));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(bodies.map((b) => b.id)).toEqual(asked);
    } finally {
      await locker.end();
    }
    for (const r of responses) expect(parseServerTiming(r.headers.get('server-timing')).queries).toBe(1);

    const batches = (await metric('holdfast_db_batches_total')) - batchesBefore;
    expect(batches).toBe(productReads());
    // At most 4 batches in flight while the lock held, then 116 waiting gets in batches of up to 64.
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(batches).toBeLessThanOrEqual(6);
  });

  it('answers 404 for a missing id inside a batch of found ones', async () => {
    const responses = await Promise.all([ids[0]!, 999_999_999, ids[1]!].map((id) => fetch(`${app.baseUrl}/api/products/${id}`)));
    expect(responses.map((r) => r.status)).toEqual([200, 404, 200]);
    expect(responses[1]!.headers.get('content-type')).toContain('application/problem+json');
  });

  it('with DB_BATCH_READS=false, sends one statement per get', async () => {
    const unbatched = await startTestApp({ env: { CACHE_ENABLED: 'false', DB_BATCH_READS: 'false' } });
    try {
      const own = await insertProducts(unbatched.pool, 10, () => '2024-03-02T00:00:00Z', 'unbatched');
      const before = unbatched.queryCount();
      const responses = await Promise.all(own.map((id) => fetch(`${unbatched.baseUrl}/api/products/${id}`)));
      expect(responses.every((r) => r.status === 200)).toBe(true);
      expect(unbatched.queryCount() - before).toBe(10);
      expect(
        unbatched
          .statements()
          .slice(before)
          .every((s) => s.includes('WHERE id = $1')),
      ).toBe(true);
    } finally {
      await unbatched.close();
    }
  });
});
