/**
 * The N+1 detector: one request running the same fingerprint more than
 * `threshold` times (a query per row of an earlier result) is reported.
 *
 * It only ever reports. The warning is logged when the threshold is crossed,
 * once per request per fingerprint; the violation record then keeps counting
 * as the request goes on, so the recent list (and /admin/queries) shows the
 * final count. Transaction control (BEGIN, COMMIT, SET, …) never counts.
 *
 * Why it never throws, not even under test: throwing from the pool's
 * `onQuery` would fail the statement after it ran (a committed write would
 * look failed), handler code may catch and remap the error, and a
 * misconfigured production instance would answer 500 for a performance
 * problem. Tests fail instead by asserting on the counter after each test
 * (test/profiler/n-plus-one.ts, `failOnNPlusOne`), which fails exactly the
 * test whose requests did it and leaves every response as it was.
 *
 * @example
 * const detector = createNPlusOneDetector({ threshold: 5, logger });
 * detector.observe(account, fingerprint, 6); // logs and counts once for this request
 */
import type { Logger } from '../log/logger.ts';
import type { Fingerprint } from './fingerprint.ts';
import type { NPlusOneViolation, QueryAccount } from './query-account.ts';

export interface NPlusOneDetector {
  /** Called with the request's running count for `fingerprint`. */
  observe(account: QueryAccount, fingerprint: Fingerprint, count: number): void;
  /** Requests × fingerprints reported since start. */
  readonly total: number;
  /** The most recent violations, oldest first. */
  recent(): NPlusOneViolation[];
}

/**
 * @example
 * createNPlusOneDetector({ threshold: config.profiler.nPlusOneThreshold, logger, keep: 50 });
 */
export function createNPlusOneDetector(options: { threshold: number; logger: Logger; keep?: number }): NPlusOneDetector {
  const { threshold, logger } = options;
  const keep = options.keep ?? 50;
  const recent: NPlusOneViolation[] = [];
  let total = 0;
  return {
    observe: function observeRun(account: QueryAccount, fingerprint: Fingerprint, count: number): void {
      if (count <= threshold || fingerprint.transactionControl) return;
      const known = account.violations.get(fingerprint.id);
      if (known !== undefined) {
        known.count = count;
        return;
      }
      const violation: NPlusOneViolation = {
        at: new Date().toISOString(),
        requestId: account.requestId,
        route: account.route,
        fingerprintId: fingerprint.id,
        fingerprint: fingerprint.text,
        count,
        threshold,
      };
      account.violations.set(fingerprint.id, violation);
      total++;
      recent.push(violation);
      if (recent.length > keep) recent.shift();
      logger.warn(
        {
          nPlusOne: { fingerprintId: fingerprint.id, fingerprint: fingerprint.text, threshold },
          requestId: account.requestId,
          route: account.route,
        },
        `N+1 query in ${account.route}: the same statement ran more than ${threshold} times in one request`,
      );
    },
    get total() {
      return total;
    },
    recent: function recentViolations(): NPlusOneViolation[] {
      return recent.map((v) => ({ ...v }));
    },
  };
}
