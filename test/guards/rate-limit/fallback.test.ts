import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../src/net/free-port.ts';
import { clientHeaders, freshIp, hit, startLimitedApp, type LimitedApp } from './harness.ts';
import { redisServerAvailable, startThrowawayRedis, type ThrowawayRedis } from '../../helpers/redis-server.ts';

const haveBinary = redisServerAvailable('the Redis rate-limit fallback tests');

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const warnings = (t: LimitedApp) => t.logs.lines.filter((l) => l.level === 40 && String(l.msg).startsWith('Redis unavailable'));
const recoveries = (t: LimitedApp) => t.logs.lines.filter((l) => l.level === 30 && String(l.msg).startsWith('Redis answers again'));

// Wide, so that "waited for Redis" (at least this) and "skipped Redis" (well under it) stay apart on a
// loaded CI machine: with 100 ms, 20 requests that skipped Redis once all took over 200 ms.
const COMMAND_TIMEOUT_MS = 1000;

describe.skipIf(!haveBinary)('falling back to memory when Redis fails (throwaway redis-server)', () => {
  let server: ThrowawayRedis;
  let t: LimitedApp;
  let admin: Redis;

  beforeAll(async () => {
    server = await startThrowawayRedis();
    t = await startLimitedApp({ REDIS_URL: server.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) }, { probeIntervalMs: 100 });
    admin = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    admin.on('error', () => undefined);
  });
  afterAll(async () => {
    admin?.disconnect();
    await t?.close();
    await server?.stop();
  });

  it('uses Redis while it answers, and re-sends the script after NOSCRIPT', async () => {
    expect(t.limiter.stats.mode).toBe('redis');
    const headers = clientHeaders(freshIp());
    expect((await hit(`${t.baseUrl}/api/products`, { headers })).status).toBe(200);
    await admin.script('FLUSH');
    const answer = await hit(`${t.baseUrl}/api/products`, { headers });
    expect(answer.headers.get('ratelimit')).toBe('"default";r=18;t=3');
    expect(t.limiter.stats).toMatchObject({ mode: 'redis', fallbackDecisions: 0 });
  });

  it('keeps answering when Redis dies: no 5xx, no wait, one warning; then returns to Redis', async () => {
    const headers = clientHeaders(freshIp());
    expect((await hit(`${t.baseUrl}/api/products`, { headers })).status).toBe(200);

    await server.kill();
    const during = [];
    try {
      for (let i = 0; i < 30; i += 1) during.push(await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(`198.19.0.1`) }));
    } finally {
      // Back up whatever the assertions below say, so the next test has its Redis.
      await server.restart();
    }
    expect(during.every((a) => a.status < 500)).toBe(true);
    // No wait: a request that waited for Redis would take the command
    // timeout, so most answer sooner (a latency budget on the slowest one
    // failed on a loaded CI run; speed is the bench's business).
    const ms = during.map((a) => a.ms).sort((a, b) => a - b);
    expect(ms[Math.floor(ms.length / 2)]!).toBeLessThan(COMMAND_TIMEOUT_MS);
    // Memory still limits: a fresh client gets exactly its quota.
    expect(during.filter((a) => a.status === 200)).toHaveLength(20);
    expect(during.filter((a) => a.status === 429)).toHaveLength(10);
    expect(t.limiter.stats.fallbackDecisions).toBeGreaterThanOrEqual(30);
    expect(warnings(t)).toHaveLength(1);

    await waitFor(() => t.limiter.stats.mode === 'redis', 10_000);
    expect(recoveries(t)).toHaveLength(1);
    const fallbackBefore = t.limiter.stats.fallbackDecisions;
    const back = await hit(`${t.baseUrl}/api/products`, { headers });
    expect(back.status).toBe(200);
    expect(t.limiter.stats.fallbackDecisions).toBe(fallbackBefore);
    // The new server counted it: the decision came from Redis.
    await waitFor(() => admin.status === 'ready', 5_000);
    expect((await admin.keys('holdfast:rl:default:*')).length).toBeGreaterThanOrEqual(1);
    expect(warnings(t)).toHaveLength(1);
  });

  it('bounds every request by the command timeout when Redis hangs, and recovers when it wakes', async () => {
    const warned = warnings(t).length;
    const recovered = recoveries(t).length;
    server.pause();
    try {
      const first = await hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(freshIp()) });
      expect(first.status).toBe(200);
      expect(first.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 10);
      expect(first.ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1000);
      // Once degraded, requests no longer wait for Redis at all. A request
      // that asked the paused Redis would take at least the command
      // timeout, so one answered sooner proves the breaker skipped Redis; how
      // much sooner depends on how busy the machine is, so that is not asserted
      // (a median under 60 ms failed under a loaded suite run).
      const later = await Promise.all(
        Array.from({ length: 20 }, () => hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(freshIp()) })),
      );
      expect(later.every((a) => a.status === 200)).toBe(true);
      const ms = later.map((a) => a.ms).sort((a, b) => a - b);
      expect(ms[0]!).toBeLessThan(COMMAND_TIMEOUT_MS);
      expect(t.limiter.stats.mode).toBe('fallback');
      expect(warnings(t)).toHaveLength(warned + 1);
    } finally {
      server.resume();
    }
    await waitFor(() => t.limiter.stats.mode === 'redis', 10_000);
    expect(recoveries(t)).toHaveLength(recovered + 1);
  });
});

describe('when Redis is down at start', () => {
  let t: LimitedApp;
  let startMs = 0;
  beforeAll(async () => {
    const deadPort = await freePort();
    const started = performance.now();
    t = await startLimitedApp({ REDIS_URL: `redis://:hunter2@127.0.0.1:${deadPort}` }, { probeIntervalMs: 100 });
    startMs = performance.now() - started;
  });
  afterAll(() => t?.close());

  it('starts promptly in fallback, serves requests, and logs one warning without the password', async () => {
    expect(startMs).toBeLessThan(2000);
    expect(t.limiter.stats.mode).toBe('fallback');
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => hit(`${t.baseUrl}/api/products`, { headers: clientHeaders(freshIp()) })),
    );
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await new Promise((r) => setTimeout(r, 350)); // several failed probes
    expect(warnings(t)).toHaveLength(1);
    expect(t.logs.raw()).not.toContain('hunter2');
  });
});
