/**
 * Makes any N+1 query pattern fail the test that caused it.
 *
 * The detector only reports (a production request must never turn into a
 * 500 over a performance problem), so tests enforce instead: the counter is
 * read before each test and checked after it, and a test whose requests ran
 * one statement more than N_PLUS_ONE_THRESHOLD times fails in `afterEach`
 * with the route and statement named. Responses are never altered, so the
 * test's own assertions still see what a client would.
 *
 * @example
 * let app: { profiler: QueryProfiler };
 * failOnNPlusOne(() => app.profiler); // in a describe block or at file level
 */
import { afterEach, beforeEach } from 'vitest';
import type { NPlusOneViolation } from '../../src/profiler/query-account.ts';

export interface NPlusOneSource {
  readonly nPlusOneTotal: number;
  report(limit?: number): { nPlusOne: NPlusOneViolation[] };
}

/**
 * Throws when `profiler` recorded N+1 violations since `since` (a previous
 * `nPlusOneTotal`), describing them.
 *
 * @example
 * const before = profiler.nPlusOneTotal;
 * await fetch(url);
 * assertNoNPlusOne(profiler, before);
 */
export function assertNoNPlusOne(profiler: NPlusOneSource, since: number): void {
  const added = profiler.nPlusOneTotal - since;
  if (added <= 0) return;
  const recent = profiler.report(0).nPlusOne.slice(-added);
  const lines = recent.map((v) => `  ${v.route}: ${v.count}× ${v.fingerprint} (request ${v.requestId})`);
  throw new Error(`N+1 query pattern (${added}): the same statement ran more than the threshold in one request\n${lines.join('\n')}`);
}

/**
 * Registers beforeEach/afterEach hooks that fail any test causing an N+1.
 * Takes a getter because the profiler is usually created in `beforeAll`.
 *
 * @example
 * failOnNPlusOne(() => app.profiler);
 */
export function failOnNPlusOne(profiler: () => NPlusOneSource | undefined): void {
  let before = 0;
  beforeEach(() => {
    before = profiler()?.nPlusOneTotal ?? 0;
  });
  afterEach(() => {
    const p = profiler();
    if (p !== undefined) assertNoNPlusOne(p, before);
  });
}
