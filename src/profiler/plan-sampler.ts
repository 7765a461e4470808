/**
 * Captures `EXPLAIN (FORMAT JSON)` plans for slow reads, off the request path.
 *
 * Rules:
 * - never `EXPLAIN ANALYZE`: that would run the slow statement a second
 *   time, and a write for real;
 * - at most one capture per fingerprint per `intervalS` (0 turns capturing
 *   off), decided when the capture is offered, so a burst of slow calls
 *   queues one job, not a hundred;
 * - jobs wait in a short queue (extra offers are dropped and counted) and
 *   run one at a time, started with `setImmediate`, so capturing never holds
 *   more than one pool connection and never runs inside the request that
 *   triggered it (the profiler hands jobs over after the response);
 * - the EXPLAIN runs with the statement's real parameters (a generic `$1`
 *   plan may not be the plan that ran slow) and is marked unprofiled; the
 *   stored plan has those values redacted again (plan-redaction.ts);
 * - a failed EXPLAIN is logged with its SQLSTATE only (messages may quote
 *   values) and counted.
 *
 * Ours because this is a queue of at most a few jobs with a per-key rate
 * limit: `lru-cache`'s TTL gives the rate limit, the rest is a loop.
 *
 * @example
 * const sampler = createPlanSampler({ intervalS: 60, logger, store: (id, plan) => stats.setPlan(id, plan) });
 * sampler.attach(pool);
 * const job = sampler.offer(fingerprint, statement, 412); // undefined when not due
 * job?.();                                                 // enqueue (after the response)
 */
import { LRUCache } from 'lru-cache';
import { backgroundContext } from '../context/context.ts';
import { READ, type Queryable, type Statement } from '../db/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Fingerprint } from './fingerprint.ts';
import { redactPlan } from './plan-redaction.ts';
import type { CapturedPlan } from './statement-stats.ts';
import { unprofiled } from './unprofiled.ts';

/** Jobs waiting at most; each holds a statement's parameter values until it runs. */
const MAX_QUEUED = 16;

interface Job {
  fingerprint: Fingerprint;
  statement: Statement;
  triggerMs: number;
}

export interface PlanSampler {
  /** The database to EXPLAIN on; until set, offers are declined. */
  attach(db: Queryable): void;
  /**
   * Claims the fingerprint's capture slot if it is due and returns a
   * function that enqueues the job, or undefined when not due.
   */
  offer(fingerprint: Fingerprint, statement: Statement, triggerMs: number): (() => void) | undefined;
  /** Resolves once the queue is empty and nothing runs. */
  settled(): Promise<void>;
  /** Drops queued jobs and declines new ones; a running EXPLAIN finishes. */
  close(): void;
  readonly captured: number;
  readonly failed: number;
  readonly dropped: number;
}

export interface PlanSamplerOptions {
  intervalS: number;
  logger: Logger;
  /** Stores a captured plan; returns false if the fingerprint is gone. */
  store(id: string, plan: CapturedPlan): boolean;
  /** Distinct fingerprints whose last capture time is remembered. */
  maxTracked?: number;
}

/** Captures run off the request path, charged to no request. */
const PLAN_SAMPLING = backgroundContext('plan sampling');

/**
 * @example
 * createPlanSampler({ intervalS: config.profiler.explainIntervalS, logger, store: stats.setPlan });
 */
export function createPlanSampler(options: PlanSamplerOptions): PlanSampler {
  const { intervalS, logger } = options;
  const lastOffered = intervalS > 0 ? new LRUCache<string, true>({ max: options.maxTracked ?? 2000, ttl: intervalS * 1000 }) : undefined;
  const queue: Job[] = [];
  let db: Queryable | undefined;
  let running = false;
  let closed = false;
  let captured = 0;
  let failed = 0;
  let dropped = 0;
  const waiters: (() => void)[] = [];

  function settle(): void {
    if (running || queue.length > 0) return;
    for (const resolve of waiters.splice(0)) resolve();
  }

  async function drain(): Promise<void> {
    running = true;
    try {
      for (let job = queue.shift(); job !== undefined && !closed; job = queue.shift()) await capture(job);
    } finally {
      running = false;
      settle();
    }
  }

  async function capture(job: Job): Promise<void> {
    const statement = unprofiled({ text: `EXPLAIN (FORMAT JSON) ${job.statement.text}`, values: job.statement.values });
    try {
      const { rows } = await db!.query<{ 'QUERY PLAN': unknown }>(PLAN_SAMPLING, statement, READ);
      const plan: CapturedPlan = {
        capturedAt: new Date().toISOString(),
        triggerMs: Math.round(job.triggerMs * 10) / 10,
        plan: redactPlan(rows[0]?.['QUERY PLAN'] ?? null),
      };
      if (options.store(job.fingerprint.id, plan)) captured++;
    } catch (err) {
      failed++;
      const code = (err as { code?: unknown } | null)?.code;
      logger.warn(
        { fingerprintId: job.fingerprint.id, code: typeof code === 'string' ? code : 'UNKNOWN' },
        'could not capture a query plan',
      );
    }
  }

  function enqueue(job: Job): void {
    if (closed) return;
    if (queue.length >= MAX_QUEUED) {
      dropped++;
      return;
    }
    queue.push(job);
    if (!running) {
      running = true; // claimed now so a second enqueue in this tick does not start a second loop
      setImmediate(() => {
        void drain();
      });
    }
  }

  return {
    attach: function attachDatabase(database: Queryable): void {
      db = database;
    },
    offer: function offerPlan(fingerprint: Fingerprint, statement: Statement, triggerMs: number): (() => void) | undefined {
      if (lastOffered === undefined || db === undefined || closed || !fingerprint.explainable) return undefined;
      if (lastOffered.has(fingerprint.id)) return undefined;
      lastOffered.set(fingerprint.id, true);
      return () => enqueue({ fingerprint, statement, triggerMs });
    },
    settled: function settled(): Promise<void> {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: function closePlanSampler(): void {
      closed = true;
      queue.length = 0;
      if (!running) settle();
    },
    get captured() {
      return captured;
    },
    get failed() {
      return failed;
    },
    get dropped() {
      return dropped;
    },
  };
}
