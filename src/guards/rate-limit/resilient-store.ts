/**
 * Redis when it answers, memory when it does not: the store that keeps rate
 * limiting on (and requests flowing) through a Redis outage.
 *
 * The degrade–probe–recover cycle is the shared Redis breaker
 * (src/redis/fallback.ts): a Redis error or timeout turns that decision, and
 * every later one, into an in-memory decision without touching Redis, with
 * one warning; a background probe runs the real script (not PING, so a
 * Redis that answers but cannot write does not count as back) and, once it
 * succeeds, switches back with one info line. What is the limiter's own:
 * the memory store is cleared on recovery, its counts being stale once Redis
 * decides again, and fallback decisions are counted. During the outage each
 * instance limits on its own, so N instances admit up to N times the limit:
 * a softer limit for a while, never an outage of the API.
 */
import type { TraceRef } from '../../context/context.ts';
import { createRedisFallback } from '../../redis/fallback.ts';
import type { Decision, Policy } from './gcra.ts';
import type { RateLimitLogger } from './store.ts';

export interface ResilientStoreOptions {
  primary: {
    take(key: string, policy: Policy, cost?: number, trace?: TraceRef): Promise<Decision>;
    charge(key: string, policy: Policy, cost: number, trace?: TraceRef): Promise<void>;
    refund(key: string, policy: Policy): Promise<void>;
    probe(): Promise<void>;
  };
  fallback: {
    take(key: string, policy: Policy, cost?: number): Decision;
    charge(key: string, policy: Policy, cost: number): void;
    refund(key: string, policy: Policy): void;
    clear(): void;
  };
  logger: RateLimitLogger;
  /** Pause between probes while degraded. Default 1000 ms. */
  probeIntervalMs?: number;
  /** Extra fields for the transition log lines, e.g. the redacted Redis URL and its last connection error. */
  logContext?: () => Record<string, unknown>;
}

/**
 * @example
 * const store = createResilientStore({ primary: redisStore, fallback: createMemoryStore(), logger });
 * await store.start();           // probes once; degraded (with one warning) if Redis is down
 * await store.take(key, policy); // never rejects because of Redis
 * store.close();
 */
export function createResilientStore(options: ResilientStoreOptions) {
  const { primary, fallback } = options;
  let fallbackDecisions = 0;
  const breaker = createRedisFallback({
    logger: options.logger,
    probeIntervalMs: options.probeIntervalMs ?? 1000,
    probe: () => primary.probe(),
    onRecover: () => fallback.clear(),
    context: options.logContext,
    messages: {
      unavailable: 'Redis unavailable for rate limiting: limiting in memory on this instance until it answers again',
      recovered: 'Redis answers again: rate limiting is shared across instances again',
    },
  });

  function decideInMemory(key: string, policy: Policy, cost?: number): Decision {
    fallbackDecisions += 1;
    return fallback.take(key, policy, cost);
  }

  /** `trace` goes to Redis only: a fallback decision is no Redis call, so it has no span (the failed call's span says why). */
  function take(key: string, policy: Policy, cost?: number, trace?: TraceRef): Decision | Promise<Decision> {
    return breaker.run(
      () => primary.take(key, policy, cost, trace),
      () => decideInMemory(key, policy, cost),
      'take',
    );
  }

  /** Gives back one request of `key`'s quota, wherever it is being counted now. */
  function refund(key: string, policy: Policy): void | Promise<void> {
    return breaker.run(
      () => primary.refund(key, policy),
      () => fallback.refund(key, policy),
      'refund',
    );
  }

  function charge(key: string, policy: Policy, cost: number, trace?: TraceRef): void | Promise<void> {
    return breaker.run(
      () => primary.charge(key, policy, cost, trace),
      () => fallback.charge(key, policy, cost),
      'charge',
    );
  }

  /** One probe at start, so the first requests already use the right store. */
  async function start(): Promise<void> {
    await primary.probe().catch((err: unknown) => breaker.fail(err, 'start'));
  }

  return {
    take,
    refund,
    charge,
    start,
    close: () => breaker.close(),
    get mode(): 'redis' | 'fallback' {
      return breaker.healthy ? 'redis' : 'fallback';
    },
    get fallbackDecisions(): number {
      return fallbackDecisions;
    },
  };
}

export type ResilientStore = ReturnType<typeof createResilientStore>;
