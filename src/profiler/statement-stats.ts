/**
 * Per-fingerprint statement statistics, in bounded memory.
 *
 * Ours because what we need is a dozen counters and one of our histograms
 * per fingerprint, with an eviction rule that knows what an entry is worth;
 * a generic cache evicts by recency or size.
 *
 * At most `maxFingerprints` entries are kept. When a new fingerprint arrives
 * and the table is full, the entry with the **least total execution time**
 * goes (ties: the least recently seen). Not least recently used, because
 * /admin/queries ranks by total time and the point is to keep the statements
 * where database time goes: under LRU, a burst of one-off statements (ad-hoc
 * queries, literals the fingerprinter could not fold) would push out the hot
 * statements that matter most; under least-total, such a burst only churns
 * the cheapest slot while heavy statements stay. The cost is an O(n) scan per
 * eviction (n ≤ a few hundred: microseconds), paid only when a new
 * fingerprint meets a full table. Evictions are counted, so a table that
 * churns is visible.
 *
 * Execution time and connection wait are kept apart: a statement that is
 * slow because the pool was dry is a different problem from a slow plan.
 *
 * @example
 * const stats = createStatementStats({ maxFingerprints: 500 });
 * stats.record(fingerprint, { durationMs: 3.1, waitMs: 0.2, rows: 1, failed: false });
 * stats.top(20); // by total time, with mean, p95 and max
 */
import { Histogram } from '../stats/histogram.ts';
import type { Fingerprint } from './fingerprint.ts';
import { offerSlowTrace, slowestFirst, type SlowTrace } from './slow-traces.ts';

/** An EXPLAIN (FORMAT JSON) result, values redacted. */
export interface CapturedPlan {
  /** ISO 8601. */
  capturedAt: string;
  /** How long the statement that triggered the capture ran, in ms. */
  triggerMs: number;
  /** The plan document as PostgreSQL returned it (an array of one object). */
  plan: unknown;
}

export interface StatementSample {
  durationMs: number;
  waitMs: number;
  rows: number;
  failed: boolean;
  /** The sampled trace the call ran in, if any. */
  traceId?: string;
}

/** One fingerprint's statistics, as reported. Times in milliseconds. */
export interface StatementSnapshot {
  id: string;
  fingerprint: string;
  command: string;
  calls: number;
  errors: number;
  rows: number;
  totalMs: number;
  meanMs: number;
  /** Upper bound of the histogram bucket holding the 95th percentile. */
  p95Ms: number;
  maxMs: number;
  /** Time spent waiting for a pool connection, apart from execution. */
  wait: { totalMs: number; meanMs: number; maxMs: number };
  /** Calls above the slow-query threshold. */
  slowCalls: number;
  firstSeenAt: string;
  lastSeenAt: string;
  plan: CapturedPlan | null;
  /** Trace ids of the slowest recent traced calls (slow-traces.ts), slowest first. */
  slowestTraces: { traceId: string; durationMs: number; at: string }[];
}

interface Entry {
  fingerprint: Fingerprint;
  durations: Histogram;
  errors: number;
  rows: number;
  waitTotalMs: number;
  waitMaxMs: number;
  slowCalls: number;
  firstSeenAt: number;
  lastSeenAt: number;
  plan: CapturedPlan | null;
  slowTraces: SlowTrace[];
}

export interface StatementStats {
  /** Adds one execution. */
  record(fingerprint: Fingerprint, sample: StatementSample): void;
  /** Counts one slow call against a fingerprint already recorded. */
  markSlow(id: string): void;
  /** Stores a plan; false when the fingerprint was evicted meanwhile. */
  setPlan(id: string, plan: CapturedPlan): boolean;
  /** Up to `limit` entries, most total execution time first. */
  top(limit: number): StatementSnapshot[];
  get(id: string): StatementSnapshot | undefined;
  /** Fingerprints tracked now (≤ maxFingerprints). */
  readonly size: number;
  /** Entries evicted to make room, since start. */
  readonly evicted: number;
  readonly maxFingerprints: number;
}

/**
 * @example
 * const stats = createStatementStats({ maxFingerprints: config.profiler.maxFingerprints });
 */
export function createStatementStats(options: { maxFingerprints: number }): StatementStats {
  const max = Math.max(1, options.maxFingerprints);
  const entries = new Map<string, Entry>();
  let evicted = 0;

  function evictLeastValuable(): void {
    let victim: string | undefined;
    let victimTotal = Infinity;
    let victimSeen = Infinity;
    for (const [id, e] of entries) {
      const total = e.durations.sum;
      if (total < victimTotal || (total === victimTotal && e.lastSeenAt < victimSeen)) {
        victim = id;
        victimTotal = total;
        victimSeen = e.lastSeenAt;
      }
    }
    if (victim !== undefined) {
      entries.delete(victim);
      evicted++;
    }
  }

  return {
    record: function recordStatement(fingerprint: Fingerprint, sample: StatementSample): void {
      const now = Date.now();
      let e = entries.get(fingerprint.id);
      if (e === undefined) {
        if (entries.size >= max) evictLeastValuable();
        e = {
          fingerprint,
          durations: new Histogram(),
          errors: 0,
          rows: 0,
          waitTotalMs: 0,
          waitMaxMs: 0,
          slowCalls: 0,
          firstSeenAt: now,
          lastSeenAt: now,
          plan: null,
          slowTraces: [],
        };
        entries.set(fingerprint.id, e);
      }
      e.durations.record(sample.durationMs);
      e.rows += sample.rows;
      if (sample.failed) e.errors++;
      e.waitTotalMs += sample.waitMs;
      if (sample.waitMs > e.waitMaxMs) e.waitMaxMs = sample.waitMs;
      e.lastSeenAt = now;
      if (sample.traceId !== undefined) offerSlowTrace(e.slowTraces, { traceId: sample.traceId, durationMs: sample.durationMs, at: now });
    },
    markSlow: function markSlow(id: string): void {
      const e = entries.get(id);
      if (e !== undefined) e.slowCalls++;
    },
    setPlan: function setPlan(id: string, plan: CapturedPlan): boolean {
      const e = entries.get(id);
      if (e === undefined) return false;
      e.plan = plan;
      return true;
    },
    top: function topStatements(limit: number): StatementSnapshot[] {
      return [...entries.values()]
        .sort((a, b) => b.durations.sum - a.durations.sum)
        .slice(0, Math.max(0, limit))
        .map(snapshot);
    },
    get: function statementById(id: string): StatementSnapshot | undefined {
      const e = entries.get(id);
      return e === undefined ? undefined : snapshot(e);
    },
    get size() {
      return entries.size;
    },
    get evicted() {
      return evicted;
    },
    maxFingerprints: max,
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

function snapshot(e: Entry): StatementSnapshot {
  const calls = e.durations.count;
  return {
    id: e.fingerprint.id,
    fingerprint: e.fingerprint.text,
    command: e.fingerprint.command,
    calls,
    errors: e.errors,
    rows: e.rows,
    totalMs: round(e.durations.sum),
    meanMs: round(e.durations.mean),
    p95Ms: round(e.durations.percentileUpperBound(0.95)),
    maxMs: round(e.durations.max),
    wait: { totalMs: round(e.waitTotalMs), meanMs: round(calls === 0 ? 0 : e.waitTotalMs / calls), maxMs: round(e.waitMaxMs) },
    slowCalls: e.slowCalls,
    firstSeenAt: new Date(e.firstSeenAt).toISOString(),
    lastSeenAt: new Date(e.lastSeenAt).toISOString(),
    plan: e.plan,
    slowestTraces: slowestFirst(e.slowTraces, Date.now()),
  };
}
