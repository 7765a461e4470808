/**
 * Redis failing under the cache, on throwaway redis-server processes this
 * file starts and kills by PID: crashed, stalled, and cut off from one
 * instance only. In each, `wrap` answers from `load()` without an error and
 * within about REDIS_COMMAND_TIMEOUT_MS, the outage and the recovery are
 * logged once each, the password never reaches a log, and no entry survives
 * an invalidation made during the outage.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQueryCache, type QueryCache } from '../../src/cache/query-cache.ts';
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts';
import { redisServerAvailable, startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis-server.ts';
import { uniquePrefix } from './helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { freePort } from '../../src/net/free-port.ts';
import { fakeRow, sleep, waitFor } from './helpers/waiting.ts';

const canSpawn = redisServerAvailable('the Redis cache outage tests');
const PASSWORD = 'cache-test-s3cret-pw';
const COMMAND_TIMEOUT_MS = 100;
/** Allowed on top of the command timeout for a fallback answer: scheduling, not waiting. */
const SLACK_MS = 150;
const ttl = { ttlMs: 60_000, tags: ['product:1'] };
const settings = { enabled: true, maxBytes: 1024 * 1024 };

describe.skipIf(!canSpawn)('query cache when redis fails', () => {
  let redis: ThrowawayRedis;
  const opened: QueryCache[] = [];

  beforeAll(async () => {
    redis = await startThrowawayRedis({ password: PASSWORD });
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((c) => c.close()));
    if (redis.pid === undefined) await redis.restart();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  async function open(
    logs: CapturedLogs,
    url = redis.url,
    prefix = uniquePrefix(),
    extra: { maxPendingTags?: number } = {},
  ): Promise<QueryCache> {
    const cache = createQueryCache(settings, {
      logger: logs.logger,
      redis: { url, commandTimeoutMs: COMMAND_TIMEOUT_MS },
      prefix,
      probeIntervalMs: 100,
      ...extra,
    });
    opened.push(cache);
    await waitFor(() => cache.stats.mode === 'redis', 'redis mode');
    return cache;
  }

  const count = (logs: CapturedLogs, msg: string): number => logs.lines.filter((l) => l.msg === msg).length;

  async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const started = performance.now();
    const value = await work();
    return { value, ms: performance.now() - started };
  }

  it('unreachable from the start: answers from load(), warns once, never logs the password', async () => {
    const logs = captureLogs();
    const nobody = await freePort();
    const cache = createQueryCache(settings, {
      logger: logs.logger,
      redis: { url: `redis://:${PASSWORD}@127.0.0.1:${nobody}`, commandTimeoutMs: COMMAND_TIMEOUT_MS },
      prefix: uniquePrefix(),
      probeIntervalMs: 100,
    });
    opened.push(cache);
    const row = fakeRow('v');
    const { value, ms } = await timed(() => cache.wrap('product:1', ttl, row.load));
    expect(value).toBe('v');
    expect(ms).toBeLessThan(50);
    expect(cache.stats.mode).toBe('bypass');
    await waitFor(() => count(logs, 'query cache unavailable; bypassing it until it recovers') === 1, 'the warning');
    await sleep(600); // several failed reconnects later
    expect(count(logs, 'query cache unavailable; bypassing it until it recovers')).toBe(1);
    await cache.invalidateTags(['product:1']);
    expect(cache.stats.pendingInvalidations).toBe(1);
    expect(logs.raw()).not.toContain(PASSWORD);
  });

  it('crashed: falls back to load() at once, recovers when redis returns, logs each transition once', async () => {
    const logs = captureLogs();
    const cache = await open(logs);
    const row = fakeRow('v1');
    await cache.wrap('product:1', ttl, row.load);
    await cache.wrap('product:1', ttl, row.load);
    expect(row.calls).toBe(1);

    await redis.kill();
    for (let i = 0; i < 5; i++) {
      const { value, ms } = await timed(() => cache.wrap('product:1', ttl, row.load));
      expect(value).toBe('v1');
      expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    }
    expect(row.calls).toBe(6);
    expect(cache.stats.mode).toBe('bypass');
    expect(cache.stats.errors).toBeGreaterThan(0);

    await redis.restart();
    await waitFor(() => cache.stats.mode === 'redis', 'recovery');
    await cache.wrap('product:1', ttl, row.load); // the restarted server is empty
    await cache.wrap('product:1', ttl, row.load);
    expect(row.calls).toBe(7);

    expect(count(logs, 'query cache unavailable; bypassing it until it recovers')).toBe(1);
    expect(count(logs, 'query cache recovered')).toBe(1);
    expect(logs.raw()).not.toContain(PASSWORD);
  });

  it('stalled: a request waits at most about the command timeout, the next ones not at all, then it recovers', async () => {
    const logs = captureLogs();
    const cache = await open(logs);
    const row = fakeRow('v1');
    await cache.wrap('product:1', ttl, row.load);

    redis.pause();
    try {
      const first = await timed(() => cache.wrap('product:1', ttl, row.load));
      expect(first.value).toBe('v1');
      expect(first.ms).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 5);
      expect(first.ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
      expect(cache.stats.mode).toBe('bypass');
      expect(cache.stats.errors).toBe(1);

      const next = await timed(() => Promise.all(Array.from({ length: 20 }, () => cache.wrap('product:1', ttl, row.load))));
      // Bypassing, none of them waits for Redis: all 20 together take less than one command timeout.
      expect(next.ms).toBeLessThan(COMMAND_TIMEOUT_MS);
      expect(next.value.every((v) => v === 'v1')).toBe(true);

      const invalidation = await timed(() => cache.invalidateTags(['product:1']));
      expect(invalidation.ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
    } finally {
      redis.resume();
    }
    await waitFor(() => cache.stats.mode === 'redis', 'recovery');
    expect(cache.stats.pendingInvalidations).toBe(0);
    const calls = row.calls;
    await cache.wrap('product:1', ttl, row.load);
    await cache.wrap('product:1', ttl, row.load);
    expect(row.calls).toBe(calls + 1);
    expect(count(logs, 'query cache unavailable; bypassing it until it recovers')).toBe(1);
    expect(count(logs, 'query cache recovered')).toBe(1);
    expect(logs.raw()).not.toContain(PASSWORD);
  });

  describe('cut off from one instance', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy(redis.port);
    });
    afterEach(() => proxy.restore());
    afterAll(async () => {
      await proxy?.close();
    });
    const viaProxy = (): string => `redis://:${PASSWORD}@127.0.0.1:${proxy.port}`;

    it('an invalidation made during the outage is replayed before that instance reads again, so no stale entry survives', async () => {
      const prefix = uniquePrefix();
      const writerLogs = captureLogs();
      const writer = await open(writerLogs, viaProxy(), prefix);
      const other = await open(captureLogs(), redis.url, prefix);
      const row = fakeRow('stock 5');
      await writer.wrap('product:1', ttl, row.load);
      expect(await other.wrap('product:1', ttl, row.load)).toBe('stock 5');
      expect(row.calls).toBe(1);

      proxy.cut();
      await waitFor(() => writer.stats.mode === 'bypass', 'the writer to notice');
      row.value = 'stock 4'; // the order commits
      const invalidation = await timed(() => writer.invalidateTags(['product:1']));
      expect(invalidation.ms).toBeLessThan(COMMAND_TIMEOUT_MS + SLACK_MS);
      expect(writer.stats.pendingInvalidations).toBe(1);
      // The writer's own client reads its write while the outage lasts.
      expect(await writer.wrap('product:1', ttl, row.load)).toBe('stock 4');

      proxy.restore();
      await waitFor(() => writer.stats.mode === 'redis', 'the writer to recover');
      expect(writer.stats.pendingInvalidations).toBe(0);
      expect(await other.wrap('product:1', ttl, row.load)).toBe('stock 4');
      expect(await writer.wrap('product:1', ttl, row.load)).toBe('stock 4');
      expect(count(writerLogs, 'query cache recovered')).toBe(1);
    });

    it('too many failed invalidations to remember: every entry is forgotten on recovery', async () => {
      const prefix = uniquePrefix();
      const writer = await open(captureLogs(), viaProxy(), prefix, { maxPendingTags: 2 });
      const other = await open(captureLogs(), redis.url, prefix);
      const unrelated = fakeRow('cached before the outage');
      await other.wrap('report', { ttlMs: 60_000, tags: ['reports'] }, unrelated.load);

      proxy.cut();
      await waitFor(() => writer.stats.mode === 'bypass', 'the writer to notice');
      await writer.invalidateTags(['product:1', 'product:2', 'product:3']);
      expect(writer.stats.pendingInvalidations).toBe(1); // "everything"

      proxy.restore();
      await waitFor(() => writer.stats.mode === 'redis', 'the writer to recover');
      await other.wrap('report', { ttlMs: 60_000, tags: ['reports'] }, unrelated.load);
      expect(unrelated.calls).toBe(2);
    });
  });
});
