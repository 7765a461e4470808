/**
 * The shape of one dashboard frame (what the page draws each second) and
 * the rule that turns the numbers into the banner's state.
 *
 * Rates are per second over the last interval; counters marked "since start"
 * are cumulative. Missing values are `null`, never 0, so a chart shows a gap
 * ("nothing happened") rather than a misleading zero latency.
 */

export type DashboardLevel = 'ok' | 'degraded' | 'shedding';

export interface SlowQueryRow {
  id: string;
  /** The fingerprint (values folded), cut to 400 characters. */
  fingerprint: string;
  command: string;
  calls: number;
  errors: number;
  meanMs: number;
  p95Ms: number;
  maxMs: number;
  totalMs: number;
  slowCalls: number;
  /** Trace ids of the slowest recent traced calls, slowest first (empty with tracing off). */
  slowestTraceIds: string[];
  /** Whether a plan was captured; fetched on demand from /admin/dashboard/plans/:id. */
  hasPlan: boolean;
}

export interface DashboardFrame {
  /** When the frame was built, ms since the epoch. */
  t: number;
  /** Length of the interval the rates cover, in seconds. */
  intervalS: number;
  state: { level: DashboardLevel; reasons: string[] };
  http: {
    rps: number;
    p99Ms: number | null;
    errorsPerS: number;
    limitedPerS: number;
    unavailablePerS: number;
    /** Since start. */
    totalRequests: number;
    routes: { route: string; rps: number; p99Ms: number | null }[];
  };
  pool: {
    size: number;
    idle: number;
    active: number;
    waiting: number;
    pending: number;
    min: number;
    max: number;
    /** The adaptive limit, or max when it is off. */
    limit: number;
    acquireP99Ms: number | null;
    timeoutsPerS: number;
    /** Age of the oldest waiter now (ms): the delay CoDel judges by (docs/OVERLOAD.md). */
    queueDelayMs: number;
    /** Waiters CoDel refused per second (503 POOL_OVERLOADED). */
    shedPerS: number;
    /** Since start. */
    timeouts: number;
    queueFull: number;
    exhausted: number;
  };
  memory: {
    rssMb: number;
    heapUsedMb: number;
    heapLimitMb: number;
    rssWarnMb: number;
    rssCriticalMb: number;
    heapWarnMb: number;
    heapCriticalMb: number;
  };
  eventLoop: { delayP99Ms: number; utilization: number; delayWarnMs: number; delayMaxMs: number };
  cache: { mode: string; hitRate: number | null; lookupsPerS: number; hits: number; misses: number };
  rateLimit: { mode: string; limited: number };
  pressure: { state: string; since: string; shed: number; leakSuspected: boolean };
  slowQueries: SlowQueryRow[];
  /** Dashboard streams open in this process. */
  streams: number;
}

export interface StateInputs {
  pressureState: 'ok' | 'warning' | 'critical';
  pressureReasons: readonly string[];
  poolSize: number;
  poolMin: number;
  waiting: number;
  timeouts: number;
  unavailable: number;
  errors: number;
}

/**
 * Shedding while pressure is critical (the API answers 503 OVERLOADED);
 * degraded on anything /api/health calls degraded, or on refusals and
 * errors during the last interval; ok otherwise.
 *
 * @example
 * overallState({ pressureState: 'ok', pressureReasons: [], poolSize: 5, poolMin: 5, waiting: 3, timeouts: 0, unavailable: 0, errors: 0 });
 * // { level: 'degraded', reasons: ['3 requests waiting for a connection'] }
 */
export function overallState(s: StateInputs): DashboardFrame['state'] {
  const reasons = [...s.pressureReasons];
  if (s.poolSize < s.poolMin) reasons.push(`pool below its minimum: ${s.poolSize} of ${s.poolMin} connections`);
  if (s.waiting > 0) reasons.push(`${s.waiting} request${s.waiting === 1 ? '' : 's'} waiting for a connection`);
  if (s.timeouts > 0) reasons.push(`${s.timeouts} pool timeout${s.timeouts === 1 ? '' : 's'} in the last interval`);
  if (s.unavailable > 0) reasons.push(`${s.unavailable} × 503 in the last interval`);
  if (s.errors > 0) reasons.push(`${s.errors} × 5xx error in the last interval`);
  if (s.pressureState === 'critical') return { level: 'shedding', reasons };
  return { level: reasons.length > 0 ? 'degraded' : 'ok', reasons };
}
