/**
 * The slow-query log: one structured warning per statement above the
 * threshold, safe to ship anywhere.
 *
 * What a line may carry is decided here, once: the fingerprint (literals
 * already folded to `?`), its id, timings, rows, the statement's prepared
 * name, the request id and route, and the parameters' count and types —
 * never a parameter value and never the raw statement text, which may hold
 * inline literals. An error is reduced to its code: PostgreSQL messages
 * quote offending values ("invalid input syntax for type integer: …").
 *
 * When the database itself slows down every statement becomes slow; the log
 * then keeps to a burst per second and says how many lines it skipped, while
 * the counters keep counting every slow statement.
 *
 * @example
 * const slowLog = createSlowQueryLog({ logger, thresholdMs: 100 });
 * slowLog.write({ fingerprint, durationMs: 312, waitMs: 0.4, rows: 1, statement, request: account });
 */
import type { Statement } from '../db/types.ts';
import type { Logger } from '../log/logger.ts';
import type { Fingerprint } from './fingerprint.ts';
import type { QueryAccount } from './query-account.ts';

/** Types listed per slow line at most; the count is always exact. */
const MAX_PARAM_TYPES = 20;

export interface ParameterSummary {
  count: number;
  /** `typeof` each value, with `null`, `array`, `Date` and `Buffer` told apart. */
  types: string[];
}

/**
 * What may be said about a statement's parameters: how many, of what type.
 *
 * @example
 * describeParameters([7, 'secret', null]); // { count: 3, types: ['number', 'string', 'null'] }
 */
export function describeParameters(values: readonly unknown[] | undefined): ParameterSummary {
  if (values === undefined) return { count: 0, types: [] };
  return { count: values.length, types: values.slice(0, MAX_PARAM_TYPES).map(typeOf) };
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Date) return 'Date';
  if (Buffer.isBuffer(value)) return 'Buffer';
  return typeof value;
}

export interface SlowQuery {
  fingerprint: Fingerprint;
  statement: Statement;
  durationMs: number;
  waitMs: number;
  rows: number;
  error?: unknown;
  /** The account of the request charged first, if any. */
  request: QueryAccount | undefined;
  /** The sampled trace the statement ran in (ctx.trace): the slow line leads to the trace, as its `traceparent` comment does in pg_stat_activity. */
  traceId?: string | undefined;
}

export interface SlowQueryLog {
  write(slow: SlowQuery): void;
}

/**
 * @example
 * createSlowQueryLog({ logger: logger.child({ component: 'profiler' }), thresholdMs: config.profiler.slowQueryMs });
 */
export function createSlowQueryLog(options: { logger: Logger; thresholdMs: number; maxPerSecond?: number }): SlowQueryLog {
  const { logger, thresholdMs } = options;
  const burst = options.maxPerSecond ?? 50;
  let windowStart = 0;
  let inWindow = 0;
  let suppressed = 0;
  return {
    write: function writeSlowQuery(slow: SlowQuery): void {
      const now = Date.now();
      if (now - windowStart >= 1000) {
        windowStart = now;
        inWindow = 0;
      }
      if (inWindow >= burst) {
        suppressed++;
        return;
      }
      inWindow++;
      const durationMs = Math.round(slow.durationMs * 10) / 10;
      const line: Record<string, unknown> = {
        slowQuery: {
          id: slow.fingerprint.id,
          fingerprint: slow.fingerprint.text,
          command: slow.fingerprint.command,
          durationMs,
          waitMs: Math.round(slow.waitMs * 10) / 10,
          rows: slow.rows,
          thresholdMs,
          ...(slow.statement.name === undefined ? {} : { statementName: slow.statement.name }),
          params: describeParameters(slow.statement.values),
          ...(slow.error === undefined ? {} : { error: { code: codeOf(slow.error) } }),
        },
        requestId: slow.request?.requestId,
        route: slow.request?.route,
        // Named as on the request's own log lines (src/telemetry/http-spans.ts).
        ...(slow.traceId === undefined ? {} : { trace_id: slow.traceId }),
      };
      if (suppressed > 0) {
        line.suppressedSlowQueries = suppressed;
        suppressed = 0;
      }
      logger.warn(line, `slow query: ${durationMs} ms (threshold ${thresholdMs} ms)`);
    },
  };
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
