/**
 * The one interface every rate-limit store implements, so the plugin does
 * not know (or care) whether a decision came from memory or from Redis.
 *
 * `take` may answer synchronously: the in-memory store does, and the hook
 * then spends no promise on the request.
 *
 * `trace` is the request's position in its trace (src/telemetry/), passed
 * explicitly as the cache's stores get `ctx.trace`: the Redis store makes a
 * span of a sampled request's call under it; the memory store ignores it.
 */
import type { TraceRef } from '../../context/context.ts';
import type { Decision, Policy } from './gcra.ts';

export type { Decision, Policy };

/** Where decisions are made right now: memory only, Redis, or memory because Redis failed. */
export type StoreMode = 'memory' | 'redis' | 'fallback';

/**
 * @example
 * const decision = await store.take('default:ip:203.0.113.7', { name: 'default', limit: 100, windowMs: 60_000 });
 * if (!decision.allowed) throw new AppError('RATE_LIMITED', …);
 */
export interface RateLimitStore {
  /** Counts one request (or `cost` units; 0 only checks) for `key` under `policy` and says whether it is admitted. */
  take(key: string, policy: Policy, cost?: number, trace?: TraceRef): Decision | Promise<Decision>;
  /** Spends `cost` units for `key` even past the limit (a cost known after the work). */
  charge(key: string, policy: Policy, cost: number, trace?: TraceRef): void | Promise<void>;
  /** Gives back one request of `key`'s quota, e.g. an attempt that turned out not to count. */
  refund(key: string, policy: Policy): void | Promise<void>;
}

/** The slice of the pino logger the limiter uses. */
export interface RateLimitLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}
