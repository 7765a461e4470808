import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../../../src/guards/rate-limit/redis-store.ts';
import { clientHeaders, freshIp, hit, startLimitedApp, type LimitedApp } from './harness.ts';
import { sharedRedisUrl, TEST_REDIS_URL } from '../../helpers/redis-server.ts';

const haveRedis = (await sharedRedisUrl('the Redis rate-limit tests')) !== undefined;

describe.skipIf(!haveRedis)('the Redis store (shared test Redis)', () => {
  let admin: Redis;
  const prefixes: string[] = [];
  const apps: LimitedApp[] = [];

  /** Two or more apps (instances) sharing one Redis under a prefix unique to the test. */
  async function instances(count: number, env: Record<string, string> = {}) {
    const keyPrefix = `holdfast:test:rl:${randomUUID()}:`;
    prefixes.push(keyPrefix);
    const started = await Promise.all(
      // A generous command timeout: these tests are about sharing one quota, and on a
      // loaded machine a script can outlast the 100 ms default, which would send one
      // instance to its memory fallback (fallback.test.ts covers that path).
      Array.from({ length: count }, () =>
        startLimitedApp({ REDIS_URL: TEST_REDIS_URL, REDIS_COMMAND_TIMEOUT_MS: '2000', ...env }, { keyPrefix }),
      ),
    );
    apps.push(...started);
    return { keyPrefix, apps: started };
  }

  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    for (const prefix of prefixes) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    admin.disconnect();
  });

  it('gives one unit back on refund, and deletes the key once nothing is left', async () => {
    const prefix = `holdfast:test:rl:${randomUUID()}:`;
    prefixes.push(prefix);
    const store = createRedisStore({ redis: admin, prefix, timeoutMs: 1000 });
    const policy = { name: 'admin-auth', limit: 3, windowMs: 60_000 };
    for (let i = 0; i < 3; i++) expect((await store.take('k', policy)).allowed).toBe(true);
    expect((await store.take('k', policy)).allowed).toBe(false);
    await store.refund('k', policy);
    expect((await store.take('k', policy)).allowed).toBe(true);
    expect((await store.take('k', policy)).allowed).toBe(false);
    for (let i = 0; i < 3; i++) await store.refund('k', policy);
    expect(await admin.exists(`${prefix}k`)).toBe(0);
    await store.refund('never-seen', policy);
    expect(await admin.exists(`${prefix}never-seen`)).toBe(0);
  });

  it('charges a cost past the limit, checks with cost 0 without spending, and repays over the window', async () => {
    const prefix = `holdfast:test:rl:${randomUUID()}:`;
    prefixes.push(prefix);
    const store = createRedisStore({ redis: admin, prefix, timeoutMs: 1000 });
    const policy = { name: 'db', limit: 1000, windowMs: 60_000 };
    expect((await store.take('db:c', policy, 0)).allowed).toBe(true);
    expect((await store.take('db:c', policy, 0)).remaining).toBe(1000); // a check spends nothing
    await store.charge('db:c', policy, 1200); // more than the whole quota: owed
    const refused = await store.take('db:c', policy, 0);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(12);
    expect((await store.take('db:other', policy, 0)).allowed).toBe(true);
  });

  it('is shared: two instances together admit one limit, not two', async () => {
    const {
      apps: [a, b],
    } = await instances(2);
    expect(a!.limiter.stats.mode).toBe('redis');
    const headers = clientHeaders(freshIp());
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => hit(`${(i % 2 === 0 ? a! : b!).baseUrl}/api/products`, { headers })),
    );
    expect(answers.filter((x) => x.status === 200)).toHaveLength(20);
    expect(answers.filter((x) => x.status === 429)).toHaveLength(10);
    expect(a!.limiter.stats.admitted + b!.limiter.stats.admitted).toBe(20);
    expect(a!.limiter.stats.fallbackDecisions + b!.limiter.stats.fallbackDecisions).toBe(0);
    for (const x of answers.filter((y) => y.status === 429)) {
      expect(Number(x.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(x.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/);
    }
  });

  it('keeps writes on their own, tighter quota', async () => {
    const {
      apps: [a, b],
    } = await instances(2);
    const headers = { ...clientHeaders(freshIp()), 'content-type': 'application/json' };
    const writes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => hit(`${(i % 2 === 0 ? a! : b!).baseUrl}/api/orders`, { method: 'POST', headers, body: '{}' })),
    );
    expect(writes.filter((x) => x.status === 200)).toHaveLength(5);
    expect((await hit(`${a!.baseUrl}/api/products`, { headers })).headers.get('ratelimit')).toBe('"default";r=19;t=3');
  });

  it('decides on Redis time and never stores a presented API key, with an expiry', async () => {
    const {
      keyPrefix,
      apps: [a],
    } = await instances(1);
    const secret = 'sk_test_redis_never_store_me';
    const ip = freshIp();
    const [seconds, micros] = await admin.time();
    await hit(`${a!.baseUrl}/api/products`, { headers: clientHeaders(ip, secret) });
    const keys = await admin.keys(`${keyPrefix}*`);
    const clientKeys = keys.filter((k) => !k.endsWith(':probe'));
    expect(clientKeys).toHaveLength(1);
    // Unverified (this harness verifies no keys): the request counts against its address.
    expect(clientKeys[0]).toBe(`${keyPrefix}default:ip:${ip}`);
    expect(clientKeys.join()).not.toContain(secret);
    // The stored TAT is Redis's clock plus one emission interval (3 s), in µs.
    const [tatUs] = (await admin.get(clientKeys[0]!))!.split(':').map(Number);
    const redisNowUs = Number(seconds) * 1e6 + Number(micros);
    expect(tatUs! - redisNowUs).toBeGreaterThan(3_000_000 - 1);
    expect(tatUs! - redisNowUs).toBeLessThan(3_000_000 + 2_000_000);
    const ttl = await admin.pttl(clientKeys[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3001);
  });
});
