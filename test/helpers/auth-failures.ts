/**
 * A failed-authentication guard for suites that build routes by hand and
 * are not about the limit: in memory, generous, silent.
 */
import { createAuthFailureGuard, type AuthFailureGuard } from '../../src/guards/rate-limit/auth-failures.ts';
import { createMemoryStore } from '../../src/guards/rate-limit/memory-store.ts';

/**
 * @example
 * await app.register(adminQueriesRoutes({ profiler, db, adminToken, authFailures: lenientAuthFailures() }));
 */
export function lenientAuthFailures(failuresPerMinute = 10_000): AuthFailureGuard {
  const quiet = { info: () => undefined, warn: () => undefined };
  return createAuthFailureGuard({ store: createMemoryStore(), failuresPerMinute, logger: quiet });
}
