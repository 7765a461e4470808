/**
 * The query profiler: the one consumer of the pool's `onQuery` hook.
 *
 * Every statement the pool runs is fingerprinted and feeds, in one pass,
 * the global per-fingerprint statistics, the current request's accounting
 * (queries, DB time, per-fingerprint counts, hence the N+1 detector), the
 * slow-query log and, for slow reads, a plan capture handed over after the
 * response. Statements marked `unprofiled` (its own EXPLAINs, the admin
 * page's reads) are skipped entirely.
 *
 * `onQuery` runs inside the pool after every statement and must not throw:
 * anything that goes wrong in here is logged (at most once a minute) and
 * swallowed.
 *
 * @example
 * const profiler = createQueryProfiler({ settings: config.profiler, logger: logger.child({ component: 'profiler' }) });
 * const pool = createPool({ ...options, onQuery: profiler.onQuery });
 * profiler.attachDatabase(pool); // for EXPLAIN
 * // … on shutdown, before pool.end():
 * profiler.close();
 */
import type { ProfilerSettings } from '../config/index.ts';
import type { QueryEvent } from '../db/pool/pool.ts';
import type { Context } from '../context/context.ts';
import type { Queryable } from '../db/types.ts';
import type { Logger } from '../log/logger.ts';
import { createFingerprinter } from './fingerprint.ts';
import { createNPlusOneDetector } from './n-plus-one.ts';
import { createPlanSampler } from './plan-sampler.ts';
import type { NPlusOneViolation } from './query-account.ts';
import { createSlowQueryLog } from './slow-log.ts';
import { createStatementStats, type StatementSnapshot } from './statement-stats.ts';
import { isUnprofiled } from './unprofiled.ts';

export interface QueryProfilerOptions {
  settings: ProfilerSettings;
  logger: Logger;
}

/** What /admin/queries reports from the profiler itself. */
export interface ProfilerReport {
  generatedAt: string;
  settings: ProfilerSettings;
  totals: {
    queries: number;
    slowQueries: number;
    nPlusOne: number;
    fingerprints: number;
    fingerprintsEvicted: number;
    plansCaptured: number;
    planFailures: number;
    plansDropped: number;
  };
  /** Most total execution time first. */
  statements: StatementSnapshot[];
  /** Most recent last. */
  nPlusOne: NPlusOneViolation[];
}

export interface QueryProfiler {
  /** Pass as the pool's `onQuery`. Never throws. */
  onQuery(event: QueryEvent): void;
  /** The database plans are captured on (usually the pool itself). */
  attachDatabase(db: Queryable): void;
  /** Called by the HTTP plugin once a request's response is out: starts its deferred plan captures. */
  requestFinished(ctx: Context): void;
  report(limit?: number): ProfilerReport;
  statement(id: string): StatementSnapshot | undefined;
  /** Resolves when no plan capture is queued or running. */
  settled(): Promise<void>;
  /** Stops capturing plans; call before ending the pool. */
  close(): void;
  readonly settings: ProfilerSettings;
  readonly queriesTotal: number;
  readonly slowQueriesTotal: number;
  readonly nPlusOneTotal: number;
  readonly fingerprintsTracked: number;
  readonly fingerprintsEvicted: number;
  readonly plansCaptured: number;
  readonly planFailures: number;
  readonly plansDropped: number;
}

/**
 * @example
 * const profiler = createQueryProfiler({ settings: config.profiler, logger });
 */
export function createQueryProfiler(options: QueryProfilerOptions): QueryProfiler {
  const { settings, logger } = options;
  const fingerprints = createFingerprinter({ maxEntries: Math.max(1000, settings.maxFingerprints * 2) });
  const stats = createStatementStats({ maxFingerprints: settings.maxFingerprints });
  const slowLog = createSlowQueryLog({ logger, thresholdMs: settings.slowQueryMs });
  const detector = createNPlusOneDetector({ threshold: settings.nPlusOneThreshold, logger });
  const plans = createPlanSampler({ intervalS: settings.explainIntervalS, logger, store: (id, plan) => stats.setPlan(id, plan) });
  let queries = 0;
  let slow = 0;
  let lastInternalError = 0;

  function onQuery(event: QueryEvent): void {
    if (isUnprofiled(event.statement)) return;
    try {
      queries++;
      const fingerprint = fingerprints.of(event.statement.text);
      const failed = event.error !== undefined;
      const trace = event.ctx.trace;
      const traceId = trace?.sampled === true ? trace.traceId : undefined;
      stats.record(fingerprint, { durationMs: event.durationMs, waitMs: event.waitMs, rows: event.rowCount, failed, traceId });
      const charged = event.ctx.accounts;
      for (const account of charged) {
        account.queries++;
        account.dbMs += event.durationMs;
        account.waitMs += event.waitMs;
        const count = (account.perFingerprint.get(fingerprint.id) ?? 0) + 1;
        account.perFingerprint.set(fingerprint.id, count);
        detector.observe(account, fingerprint, count);
      }
      // The slow log names one request; a batched read's first is as good as any.
      const account = charged[0];
      if (event.durationMs > settings.slowQueryMs) {
        slow++;
        stats.markSlow(fingerprint.id);
        slowLog.write({
          fingerprint,
          statement: event.statement,
          durationMs: event.durationMs,
          waitMs: event.waitMs,
          rows: event.rowCount,
          error: event.error,
          request: account,
          traceId,
        });
        const capture = failed ? undefined : plans.offer(fingerprint, event.statement, event.durationMs);
        if (capture !== undefined) {
          if (account === undefined || account.responded) capture();
          else account.afterResponse.push(capture);
        }
      }
    } catch (err) {
      const now = Date.now();
      if (now - lastInternalError > 60_000) {
        lastInternalError = now;
        logger.error({ err: { message: (err as Error)?.message } }, 'query profiler failed to record a statement');
      }
    }
  }

  return {
    onQuery,
    attachDatabase: function attachDatabase(db: Queryable): void {
      plans.attach(db);
    },
    requestFinished: function requestFinished(ctx: Context): void {
      for (const account of ctx.accounts) {
        account.responded = true;
        for (const capture of account.afterResponse.splice(0)) capture();
      }
    },
    report: function report(limit = 50): ProfilerReport {
      return {
        generatedAt: new Date().toISOString(),
        settings: { ...settings },
        totals: {
          queries,
          slowQueries: slow,
          nPlusOne: detector.total,
          fingerprints: stats.size,
          fingerprintsEvicted: stats.evicted,
          plansCaptured: plans.captured,
          planFailures: plans.failed,
          plansDropped: plans.dropped,
        },
        statements: stats.top(limit),
        nPlusOne: detector.recent(),
      };
    },
    statement: (id: string) => stats.get(id),
    settled: () => plans.settled(),
    close: () => plans.close(),
    settings,
    get queriesTotal() {
      return queries;
    },
    get slowQueriesTotal() {
      return slow;
    },
    get nPlusOneTotal() {
      return detector.total;
    },
    get fingerprintsTracked() {
      return stats.size;
    },
    get fingerprintsEvicted() {
      return stats.evicted;
    },
    get plansCaptured() {
      return plans.captured;
    },
    get planFailures() {
      return plans.failed;
    },
    get plansDropped() {
      return plans.dropped;
    },
  };
}
