/**
 * The Redis store: one atomic script call per decision, shared by every
 * instance pointed at the same Redis.
 *
 * EVALSHA sends 40 bytes instead of the script; when Redis answers NOSCRIPT
 * (first use, a restart, SCRIPT FLUSH, a failover) the same call is repeated
 * once as EVAL, which also caches the script again. The whole exchange is
 * bounded by the command timeout; any failure is thrown for the resilient
 * store to turn into a fallback decision.
 *
 * With `spans` (tracing on), a decision or charge for a sampled request is
 * one client span under the request's span (src/telemetry/redis-spans.ts),
 * covering the whole bounded exchange: a timeout ends it as an error. Any
 * other call, and every call with tracing off, takes the plain path.
 */
import type { Redis } from 'ioredis';
import { withDeadline } from '../../async/deadline.ts';
import type { TraceRef } from '../../context/context.ts';
import type { RedisSpans } from '../../telemetry/redis-spans.ts';
import { GCRA_LUA, GCRA_LUA_SHA1 } from './gcra-script.ts';
import { describeStep, type Decision, type Policy } from './gcra.ts';

export interface RedisStoreOptions {
  redis: Redis;
  /** Prepended to every key, e.g. `holdfast:rl:`; separates apps (and tests) sharing a Redis. */
  prefix: string;
  /** Upper bound on one decision, in ms. */
  timeoutMs: number;
  /** Spans of sampled requests' calls (tracing on); absent: none. */
  spans?: RedisSpans | undefined;
}

/** The script's name on its spans (`db.stored_procedure.name`), as the cache names its own. */
export const GCRA_SCRIPT_NAME = 'holdfastRateLimit';
const WHAT = 'redis rate-limit script';

/** The script's policy for probes: generous enough never to refuse, cheap to run. */
const PROBE_POLICY: Policy = { name: 'probe', limit: 1_000_000, windowMs: 1000 };

/**
 * @example
 * const store = createRedisStore({ redis, prefix: 'holdfast:rl:', timeoutMs: 100 });
 * const decision = await store.take('default:ip:203.0.113.7', policy); // rejects on error or timeout
 */
export function createRedisStore(options: RedisStoreOptions) {
  const { redis, prefix, timeoutMs, spans } = options;

  async function run(key: string, policy: Policy, cost: number, force: boolean): Promise<unknown> {
    const args = [prefix + key, policy.limit, policy.windowMs, cost, force ? 1 : 0] as const;
    try {
      return await redis.evalsha(GCRA_LUA_SHA1, 1, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await redis.eval(GCRA_LUA, 1, ...args);
    }
  }

  /** The script call within the deadline; a span of it only for a sampled trace (no closure otherwise). */
  function bounded(key: string, policy: Policy, cost: number, force: boolean, trace: TraceRef | undefined): Promise<unknown> {
    if (spans === undefined || trace?.sampled !== true) return withDeadline(run(key, policy, cost, force), timeoutMs, WHAT);
    // Named EVALSHA even when a NOSCRIPT made it EVAL too, as the cache's spans are.
    return spans.command(trace, 'EVALSHA', GCRA_SCRIPT_NAME, 1, () => withDeadline(run(key, policy, cost, force), timeoutMs, WHAT), {
      'holdfast.rate_limit.policy': policy.name,
    });
  }

  async function take(key: string, policy: Policy, cost = 1, trace?: TraceRef): Promise<Decision> {
    return decide(await bounded(key, policy, cost, false, trace), policy, cost);
  }

  async function charge(key: string, policy: Policy, cost: number, trace?: TraceRef): Promise<void> {
    await bounded(key, policy, cost, true, trace);
  }

  function decide(reply: unknown, policy: Policy, cost: number): Decision {
    if (!Array.isArray(reply) || reply.length !== 3 || !reply.every((v) => typeof v === 'number')) {
      throw new Error(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`);
    }
    const [allowed, aheadUs, rem] = reply as [number, number, number];
    return describeStep(allowed === 1, (aheadUs + rem / policy.limit) / 1000, policy, cost);
  }

  /** Gives back one request of `key`'s quota (see gcraRefund). */
  async function refund(key: string, policy: Policy): Promise<void> {
    await withDeadline(run(key, policy, -1, false), timeoutMs, WHAT);
  }

  /**
   * Resolves when Redis runs the script again; used to decide that it is back.
   * Runs the real script (not PING) so a Redis that answers but cannot write
   * (read-only replica, out of memory) does not count as back.
   */
  async function probe(): Promise<void> {
    await take('probe', PROBE_POLICY);
  }

  return { take, charge, refund, probe };
}

export type RedisStore = ReturnType<typeof createRedisStore>;
