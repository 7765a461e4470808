/**
 * The rate limiter, assembled from the config: policies, client keys, the
 * store (memory, or Redis with a memory fallback) and the Fastify plugin,
 * plus counters for metrics, and the failed-authentication guard of the
 * operator surfaces (auth-failures.ts), which shares the store and stays on
 * when RATE_LIMIT_ENABLED=false. The composition root creates one, registers
 * its plugin and closes it at shutdown.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/index.ts';
import { redactUrl } from '../../config/redact.ts';
import { createAllowList } from './allow-list.ts';
import { createAuthFailureGuard, type AuthFailureGuard } from './auth-failures.ts';
import { withDeadline } from '../../async/deadline.ts';
import type { Decision, Policy } from './gcra.ts';
import { createKeyer } from './key.ts';
import { createMemoryStore } from './memory-store.ts';
import { rateLimitPlugin } from './plugin.ts';
import { createRedisClient } from '../../redis/client.ts';
import { createRedisStore } from './redis-store.ts';
import { createResilientStore, type ResilientStore } from './resilient-store.ts';
import type { RateLimitLogger, RateLimitStore, StoreMode } from './store.ts';
import { openedContext } from '../../http/context.ts';
import { requestTraceOf } from '../../telemetry/http-spans.ts';
import type { RedisSpans } from '../../telemetry/redis-spans.ts';

export type { StoreMode, RateLimitLogger };

export interface RateLimiterDeps {
  logger: RateLimitLogger;
  /**
   * A client to use instead of creating one from `config.redis.url`. The
   * caller owns it (and closes it); it should fail fast when disconnected
   * (`enableOfflineQueue: false`), as the one created here does.
   */
  redis?: Redis;
  /** Prefix of every Redis key. Default `holdfast:rl:`. */
  keyPrefix?: string;
  /** Clock of the in-memory store, in ms. Default `performance.now()`. */
  now?: () => number;
  /** Keys the in-memory store keeps at most. Default 100 000. */
  maxKeys?: number;
  /** Pause between Redis probes while degraded. Default 1000 ms. */
  probeIntervalMs?: number;
  /** Spans for the Redis store's calls of sampled requests (tracing on, src/telemetry/redis-spans.ts); absent: none. */
  redisSpans?: RedisSpans | undefined;
}

/** Live counters, read at scrape time. */
export interface RateLimitStats {
  /** Requests admitted on limited routes. */
  readonly admitted: number;
  /** Requests refused with 429. */
  readonly limited: number;
  /** Decisions made in memory because Redis failed or timed out. */
  readonly fallbackDecisions: number;
  /** `memory`: no Redis configured; `redis`: shared; `fallback`: Redis down, memory per instance. */
  readonly mode: StoreMode;
}

export interface RateLimiter {
  /** Register before the routes it should limit. Does nothing when rate limiting is disabled. */
  plugin: FastifyPluginAsync;
  stats: RateLimitStats;
  /** Limits failed authentication on /admin/* and /metrics per client address. */
  authFailures: AuthFailureGuard;
  /** Stops probing and disconnects the Redis client created here. Idempotent. */
  close(): Promise<void>;
}

/**
 * @example
 * const limiter = createRateLimiter(config, { logger: logger.child({ component: 'rate-limit' }) });
 * await app.register(limiter.plugin);
 * new Gauge({ name: 'holdfast_rate_limit_fallback', help: '…', collect() { this.set(limiter.stats.mode === 'fallback' ? 1 : 0); } });
 * // at shutdown, after the server closed:
 * await limiter.close();
 */
export function createRateLimiter(config: Pick<Config, 'rateLimit' | 'redis' | 'admin'>, deps: RateLimiterDeps): RateLimiter {
  const settings = config.rateLimit;
  const windowMs = settings.windowSeconds * 1000;
  const policies: { read: Policy; write: Policy } = {
    read: { name: 'default', limit: settings.max, windowMs },
    write: { name: 'writes', limit: settings.writeMax, windowMs },
  };
  let admitted = 0;
  let limited = 0;

  const redisUrl = config.redis.url;
  const ownedRedis =
    deps.redis === undefined && redisUrl !== undefined
      ? createRedisClient({
          url: redisUrl,
          commandTimeoutMs: config.redis.commandTimeoutMs,
          connectionName: 'holdfast-rate-limit',
          lazyConnect: true,
        })
      : undefined;
  const redis = deps.redis ?? ownedRedis;
  let lastConnectionError: string | undefined;
  ownedRedis?.on('error', (err: Error) => {
    lastConnectionError = err.message;
  });
  ownedRedis?.on('ready', () => {
    lastConnectionError = undefined;
  });
  let resilient: ResilientStore | undefined;
  if (redis !== undefined) {
    resilient = createResilientStore({
      primary: createRedisStore({
        redis,
        prefix: deps.keyPrefix ?? 'holdfast:rl:',
        timeoutMs: config.redis.commandTimeoutMs,
        spans: deps.redisSpans,
      }),
      fallback: createMemoryStore({ now: deps.now, maxKeys: deps.maxKeys }),
      logger: deps.logger,
      probeIntervalMs: deps.probeIntervalMs,
      logContext: () =>
        redisUrl !== undefined && ownedRedis !== undefined ? { redis: redactUrl(redisUrl), connectionError: lastConnectionError } : {},
    });
  }
  const store: RateLimitStore = resilient ?? createMemoryStore({ now: deps.now, maxKeys: deps.maxKeys });

  let started: Promise<void> | undefined;
  async function start(): Promise<void> {
    if (redis !== undefined && redis.status === 'wait') {
      // Bounded: a Redis that is down at start must not delay the server; the probe takes over.
      await withDeadline(redis.connect(), Math.max(1000, config.redis.commandTimeoutMs * 10), 'redis connect').catch(() => undefined);
    }
    await resilient?.start();
    if (!settings.enabled) return deps.logger.info({}, 'rate limiting off (RATE_LIMIT_ENABLED=false)');
    deps.logger.info(
      {
        reads: settings.max,
        writes: settings.writeMax,
        dbMsPerMinute: settings.dbMsPerMinute,
        windowSeconds: settings.windowSeconds,
        store: stats.mode,
        allowEntries: settings.allow.length,
      },
      'rate limiting on',
    );
  }

  function onDecision(decision: Decision): void {
    if (decision.allowed) admitted += 1;
    else limited += 1;
  }

  const enabledPlugin = rateLimitPlugin({
    policies,
    store,
    keyOf: createKeyer(createAllowList(settings.allow)),
    onDecision,
    start: () => (started ??= start()),
    // Charged the database time the profiler measured for the request (src/profiler/query-account.ts).
    db:
      settings.dbMsPerMinute > 0
        ? {
            policy: { name: 'db', limit: settings.dbMsPerMinute, windowMs: 60_000 },
            costOf: (request) => openedContext(request)?.accounts[0]?.dbMs ?? 0,
          }
        : undefined,
    // The server span's position (its onRequest hook runs first in the /api scope); only Redis calls need it.
    traceOf: resilient !== undefined && deps.redisSpans !== undefined ? requestTraceOf : undefined,
  });
  const plugin: FastifyPluginAsync = settings.enabled
    ? enabledPlugin
    : async function rateLimitDisabled() {
        await (started ??= start());
      };

  const stats: RateLimitStats = {
    get admitted() {
      return admitted;
    },
    get limited() {
      return limited;
    },
    get fallbackDecisions() {
      return resilient?.fallbackDecisions ?? 0;
    },
    get mode(): StoreMode {
      return resilient?.mode ?? 'memory';
    },
  };

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    return (closing ??= (async () => {
      resilient?.close();
      ownedRedis?.disconnect();
    })());
  }

  const authFailures = createAuthFailureGuard({ store, failuresPerMinute: config.admin.authFailuresPerMinute, logger: deps.logger });

  return { plugin, stats, authFailures, close };
}
