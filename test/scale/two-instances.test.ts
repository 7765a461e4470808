import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHoldfast, type Holdfast } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { redisServerAvailable, startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis-server.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';

// Two instances of Holdfast, as on two machines: one database, one Redis,
// two ports. Neither the limiter nor the cache takes a key prefix from the
// config, so the Redis is this file's own redis-server, not the shared one.

const canSpawnRedis = redisServerAvailable('the two-instances scale tests');

function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

function queriesOf(res: Response): number | undefined {
  const n = /desc="(\d+) quer/.exec(res.headers.get('server-timing') ?? '')?.[1];
  return n === undefined ? undefined : Number(n);
}

describe.skipIf(!canSpawnRedis)('two instances sharing one Redis', () => {
  let db: TestDatabase;
  let redis: ThrowawayRedis;
  const instances: Holdfast[] = [];

  async function instance(env: Record<string, string>): Promise<Holdfast> {
    const config = loadConfig({
      DATABASE_URL: db.url,
      HOST: '127.0.0.1',
      PORT: '0',
      SEED_DEMO: 'false',
      CURSOR_SECRET: 'two-instances-test',
      DB_POOL_MIN: '1',
      DB_POOL_MAX: '5',
      DB_ADAPTIVE_LIMIT: 'false',
      // Parallel test files load this machine; a slow answer must not push a decision into the per-instance fallback.
      REDIS_COMMAND_TIMEOUT_MS: '1000',
      ...env,
    });
    const app = await startHoldfast(config, createLogger('silent'));
    instances.push(app);
    return app;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startThrowawayRedis();
  });

  afterAll(async () => {
    for (const app of instances.splice(0)) await app.stop();
    await redis?.stop();
    await db?.drop();
  });

  it('admits 100 ± 5 across both for a global limit of 100, hammered alternately', async () => {
    // A generous command timeout: on a loaded machine a slow script would otherwise send one instance to memory.
    const env = { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '2000', RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_S: '3600' };
    const [a, b] = [await instance(env), await instance(env)];
    const productId = await insertProduct(a.pool);
    // Both must be deciding in Redis before the first request, or it would be decided in memory.
    await waitFor(async () => (await fetch(`${a.url}/metrics`).then((r) => r.text())).includes('holdfast_rate_limit_fallback 0'));

    const statuses: number[] = [];
    const total = 300;
    const concurrency = 10;
    for (let start = 0; start < total; start += concurrency) {
      const batch = Array.from({ length: concurrency }, (_, i) => {
        const target = (start + i) % 2 === 0 ? a : b;
        return fetch(`${target.url}/api/products/${productId}`).then(async (res) => {
          await res.arrayBuffer();
          return res.status;
        });
      });
      statuses.push(...(await Promise.all(batch)));
    }
    const admitted = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(95);
    expect(admitted).toBeLessThanOrEqual(105);

    // Each instance admitted part of the one budget, and no decision fell back to memory.
    for (const app of [a, b]) {
      const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
      expect(metricValue(metrics, 'holdfast_rate_limit_fallback_decisions_total')).toBe(0);
      expect(metricValue(metrics, 'holdfast_rate_limit_admitted_total')).toBeGreaterThan(20);
    }
  });

  it('an order on instance A makes B’s next read of the product fresh (the cache lives only in Redis)', async () => {
    const env = { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '2000', RATE_LIMIT_ENABLED: 'false' };
    const [a, b] = [await instance(env), await instance(env)];
    await waitFor(async () => (await fetch(`${b.url}/metrics`).then((r) => r.text())).includes('holdfast_cache_mode{mode="redis"} 1'));
    const productId = await insertProduct(a.pool, { stock: 20 });
    const customerId = await insertCustomer(a.pool);

    const loadedByB = await fetch(`${b.url}/api/products/${productId}`);
    expect(((await loadedByB.json()) as { stock: number }).stock).toBe(20);
    expect(queriesOf(loadedByB)).toBe(1);
    // Shared: A is answered from what B stored, and B from its own entry.
    const readByA = await fetch(`${a.url}/api/products/${productId}`);
    await readByA.arrayBuffer();
    expect(queriesOf(readByA)).toBe(0);
    const cachedOnB = await fetch(`${b.url}/api/products/${productId}`);
    expect(((await cachedOnB.json()) as { stock: number }).stock).toBe(20);
    expect(queriesOf(cachedOnB)).toBe(0);

    const order = await fetch(`${a.url}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, items: [{ productId, quantity: 4 }] }),
    });
    expect(order.status, await order.clone().text()).toBe(201);

    const afterOnB = await fetch(`${b.url}/api/products/${productId}`);
    expect(((await afterOnB.json()) as { stock: number }).stock).toBe(16);
    expect(queriesOf(afterOnB)).toBe(1);
  });

  it('without REDIS_URL each instance keeps its own budget: two admit about twice the limit', async () => {
    const env = { RATE_LIMIT_MAX: '20', RATE_LIMIT_WINDOW_S: '3600' };
    const [a, b] = [await instance(env), await instance(env)];
    const productId = await insertProduct(a.pool);
    let admitted = 0;
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`${(i % 2 === 0 ? a : b).url}/api/products/${productId}`);
      await res.arrayBuffer();
      if (res.status === 200) admitted++;
    }
    expect(admitted).toBe(40);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
