/**
 * Redis when it answers, memory when it does not: the store that keeps rate
 * limiting on (and requests flowing) through a Redis outage.
 *
 * A Redis error or timeout turns that decision, and every later one, into an
 * in-memory decision, with one warning for the transition rather than one
 * per request. While degraded, requests do not touch Redis at all (a hung
 * Redis would otherwise cost each of them the full timeout); a background
 * probe runs the real script every `probeIntervalMs` and, once it succeeds,
 * switches back with one info line. During the outage each instance limits
 * on its own, so N instances admit up to N times the limit: a softer limit
 * for a while, never an outage of the API.
 */
import type { Decision, Policy } from './gcra.ts';
import type { RateLimitLogger } from './store.ts';

export interface ResilientStoreOptions {
  primary: { take(key: string, policy: Policy): Promise<Decision>; probe(): Promise<void> };
  fallback: { take(key: string, policy: Policy): Decision; clear(): void };
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
  const { primary, fallback, logger } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 1000;
  const context = options.logContext ?? (() => ({}));
  let degraded = false;
  let closed = false;
  let fallbackDecisions = 0;
  let probeTimer: NodeJS.Timeout | undefined;

  function degrade(err: unknown): void {
    if (degraded || closed) return;
    degraded = true;
    logger.warn(
      { ...context(), reason: err instanceof Error ? err.message : String(err) },
      'Redis unavailable for rate limiting: limiting in memory on this instance until it answers again',
    );
    scheduleProbe();
  }

  function scheduleProbe(): void {
    probeTimer = setTimeout(() => {
      primary.probe().then(recover, () => {
        if (!closed) scheduleProbe();
      });
    }, probeIntervalMs);
    probeTimer.unref();
  }

  function recover(): void {
    if (closed || !degraded) return;
    degraded = false;
    // What memory counted during the outage is stale once Redis decides again.
    fallback.clear();
    logger.info({ ...context() }, 'Redis answers again: rate limiting is shared across instances again');
  }

  function decideInMemory(key: string, policy: Policy): Decision {
    fallbackDecisions += 1;
    return fallback.take(key, policy);
  }

  function take(key: string, policy: Policy): Decision | Promise<Decision> {
    if (degraded) return decideInMemory(key, policy);
    return primary.take(key, policy).catch((err: unknown) => {
      degrade(err);
      return decideInMemory(key, policy);
    });
  }

  /** One probe at start, so the first requests already use the right store. */
  async function start(): Promise<void> {
    await primary.probe().catch(degrade);
  }

  function close(): void {
    closed = true;
    clearTimeout(probeTimer);
  }

  return {
    take,
    start,
    close,
    get mode(): 'redis' | 'fallback' {
      return degraded ? 'fallback' : 'redis';
    },
    get fallbackDecisions(): number {
      return fallbackDecisions;
    },
  };
}

export type ResilientStore = ReturnType<typeof createResilientStore>;
