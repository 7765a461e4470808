/**
 * Failed authentication on the operator surfaces (dashboard login and
 * bearer, /admin/queries, /metrics) limited per client address, so a token
 * cannot be guessed at full speed.
 *
 * It is the API limiter's GCRA and store (Redis shared by every instance
 * when REDIS_URL is set, memory otherwise), under its own policy and key
 * prefix: `ADMIN_AUTH_FAILURES_PER_MINUTE` failures per client per minute,
 * across all the operator surfaces together, then 429 RATE_LIMITED with
 * Retry-After until quota comes back.
 *
 * Only failures count, yet the charge comes first: every attempt takes one
 * unit before the token is compared, and a success gives it back. Checking
 * first and charging after would let a burst of concurrent guesses all pass
 * the check before any of them was counted. A refused client's token is not
 * compared at all, so a right guess is not distinguishable while refused.
 *
 * Each failure is logged at warn with the route and client address, never
 * with what was presented.
 */
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../errors/app-error.ts';
import type { Policy } from './gcra.ts';
import { clientOfIp, parseIp } from './ip.ts';
import type { RateLimitLogger, RateLimitStore } from './store.ts';

export interface AuthFailureGuard {
  /**
   * Runs `verify` for one authentication attempt unless the client is over
   * its failure quota: true (authenticated, not charged), false (a counted
   * failure: answer 401) or the 429 to send.
   */
  attempt(request: FastifyRequest, verify: () => boolean): Promise<boolean | AppError>;
}

/**
 * @example
 * const guard = createAuthFailureGuard({ store, failuresPerMinute: 10, logger });
 * const outcome = await guard.attempt(request, () => isBearer(request.headers.authorization));
 * if (outcome instanceof AppError) return sendProblem(request, reply, outcome);
 */
export function createAuthFailureGuard(options: {
  store: RateLimitStore;
  failuresPerMinute: number;
  logger: RateLimitLogger;
}): AuthFailureGuard {
  const { store, logger } = options;
  const policy: Policy = { name: 'admin-auth', limit: options.failuresPerMinute, windowMs: 60_000 };

  return {
    attempt: async function attemptAuthentication(request, verify) {
      const ip = parseIp(request.ip);
      const key = `admin-auth:${ip === undefined ? 'ip:unknown' : clientOfIp(ip)}`;
      const decision = await store.take(key, policy);
      if (!decision.allowed) {
        return new AppError(
          'RATE_LIMITED',
          `more than ${policy.limit} failed authentications per minute from this address; retry in ${decision.retryAfterSeconds} s`,
          { retryAfterSeconds: decision.retryAfterSeconds },
        );
      }
      if (verify()) {
        await store.refund(key, policy);
        return true;
      }
      const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
      logger.warn({ route, client: request.ip, failuresLeft: decision.remaining }, 'admin authentication failed');
      return false;
    },
  };
}
