/**
 * An open-model load generator: requests arrive at a constant rate whatever
 * the server does, and each one's latency runs from the time it was MEANT to
 * be sent. A closed loop (wrk, autocannon, and autocannon's `overallRate`,
 * which only throttles its loop) sends the next request when the last one
 * returns, so a stalled server also stalls the arrivals and the stall shows
 * up as one slow request instead of all the ones that should have arrived
 * during it (coordinated omission; wrk2, k6's arrival-rate executors).
 *
 * Our own, small: on npm we found no maintained generator usable as a
 * library that measures from the intended send time (k6 and wrk2 are not
 * npm packages; `loadtest --rps` times each request from its actual send).
 * Over node:http with a keep-alive agent rather than fetch: the bundled
 * undici is not importable and fetch's streams cost the shared CPU more per
 * request. Latencies go into the load test's log-bucket histogram
 * (latency.ts, 1% resolution), already used for the closed-loop levels.
 *
 * When every allowed connection is busy, due requests wait in a backlog and
 * are sent as soon as one frees: their wait is counted in their latency, and
 * the ones sent more than `lateMs` after their time are reported as late.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { LatencyHistogram } from './latency.ts';

/**
 * @example
 * const options: OpenModelOptions = { baseUrl: 'http://127.0.0.1:5001', rate: 2000, durationMs: 30_000, nextPath: () => '/api/health' };
 */
export interface OpenModelOptions {
  baseUrl: string;
  /** Arrivals per second. */
  rate: number;
  durationMs: number;
  nextPath: () => string;
  /** A request unanswered after this long is a timeout. Default 10 s. */
  timeoutMs?: number;
  /** Connections (requests in flight) at most; beyond it due requests queue in the client. Default 1 000, the c=1000. */
  maxInFlight?: number;
  /** A request sent later than this after its intended time counts as late. Default 10 ms. */
  lateMs?: number;
  signal?: AbortSignal | undefined;
  /**
   * Keep-alive connections to reuse (from {@link openModelAgent}), so that a
   * measured run does not start by opening hundreds of connections at once;
   * the caller destroys it. Default: a new agent for this run.
   */
  agent?: Agent | undefined;
}

/**
 * A keep-alive agent for several runs against one server (a warm-up, then the measured run).
 *
 * @example
 * const agent = openModelAgent(1000);
 * await runOpenModel({ ...options, agent, durationMs: 2000 }); // warm-up
 * const result = await runOpenModel({ ...options, agent });
 * agent.destroy();
 */
export function openModelAgent(maxInFlight: number = DEFAULT_MAX_IN_FLIGHT): Agent {
  return new Agent({ keepAlive: true, maxSockets: maxInFlight, maxFreeSockets: maxInFlight });
}

const DEFAULT_MAX_IN_FLIGHT = 1_000;

/** Percentiles in milliseconds. */
export interface OpenPercentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * @example
 * const r: OpenModelResult = await runOpenModel(options);
 * console.log(r.success.p99, r.late, r.status503WithoutRetryAfter);
 */
export interface OpenModelResult {
  rate: number;
  durationS: number;
  /** Arrivals the schedule had: rate × duration. */
  intended: number;
  sent: number;
  /** Sent more than `lateMs` after their intended time (the client could not keep the schedule). */
  late: number;
  /** Due but never sent: still queued in the client when the run ended. */
  notSent: number;
  /** The largest delay between a request's intended and actual send time. */
  maxSendDelayMs: number;
  responses: number;
  statusCodes: Record<string, number>;
  status2xx: number;
  status503WithRetryAfter: number;
  status503WithoutRetryAfter: number;
  timeouts: number;
  socketErrors: number;
  /** 2xx per second over the run. */
  successPerSec: number;
  /** 2xx latencies from the intended send time. */
  success: OpenPercentiles;
  /** Every response's latency from the intended send time. */
  all: OpenPercentiles;
  /** Every response's latency from its actual send time: what a closed loop would report. */
  service: OpenPercentiles;
}

/**
 * Runs one open-model level and resolves when every sent request has ended.
 *
 * @example
 * const result = await runOpenModel({ baseUrl, rate: 500, durationMs: 5_000, nextPath: () => '/api/products/7' });
 */
export async function runOpenModel(options: OpenModelOptions): Promise<OpenModelResult> {
  const url = new URL(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const lateMs = options.lateMs ?? 10;
  const intervalMs = 1000 / options.rate;
  const intended = Math.floor((options.rate * options.durationMs) / 1000);
  const agent = options.agent ?? openModelAgent(maxInFlight);
  const histograms = { success: new LatencyHistogram(), all: new LatencyHistogram(), service: new LatencyHistogram() };
  const tally = {
    sent: 0,
    late: 0,
    maxSendDelayMs: 0,
    responses: 0,
    status2xx: 0,
    withRetryAfter: 0,
    withoutRetryAfter: 0,
    timeouts: 0,
    socketErrors: 0,
  };
  const statusCodes: Record<string, number> = {};
  const backlog: number[] = []; // intended send times (performance.now()) of due requests not yet sent
  let scheduled = 0;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  function send(intendedAt: number): void {
    const sentAt = performance.now();
    const delay = sentAt - intendedAt;
    if (delay > lateMs) tally.late++;
    if (delay > tally.maxSendDelayMs) tally.maxSendDelayMs = delay;
    tally.sent++;
    inFlight++;
    let settled = false;
    const finish = (outcome: 'response' | 'timeout' | 'error', status?: number, retryAfter?: boolean) => {
      if (settled) return;
      settled = true;
      inFlight--;
      const now = performance.now();
      if (outcome === 'timeout') tally.timeouts++;
      else if (outcome === 'error') tally.socketErrors++;
      else if (status !== undefined) {
        tally.responses++;
        statusCodes[status] = (statusCodes[status] ?? 0) + 1;
        histograms.all.record(now - intendedAt);
        histograms.service.record(now - sentAt);
        if (status >= 200 && status < 300) {
          tally.status2xx++;
          histograms.success.record(now - intendedAt);
        } else if (status === 503) {
          if (retryAfter === true) tally.withRetryAfter++;
          else tally.withoutRetryAfter++;
        }
      }
      drain();
    };
    const req = request(
      { agent, host: url.hostname, port: url.port, path: options.nextPath(), method: 'GET', timeout: timeoutMs },
      (res) => {
        res.on('end', () => finish('response', res.statusCode, res.headers['retry-after'] !== undefined));
        res.on('error', () => finish('error'));
        res.resume();
      },
    );
    req.on('timeout', () => {
      finish('timeout');
      req.destroy();
    });
    req.on('error', () => finish('error'));
    req.end();
  }

  function drain(): void {
    while (backlog.length > 0 && inFlight < maxInFlight) send(backlog.shift()!);
    if (inFlight === 0 && onIdle !== undefined) onIdle();
  }

  const start = performance.now();
  await new Promise<void>((done) => {
    // A 1 ms tick: each tick releases every arrival that has come due since the last.
    const tick = () => {
      const now = performance.now();
      const stop = options.signal?.aborted === true || now - start >= options.durationMs;
      const due = stop ? intended : Math.min(intended, Math.floor((now - start) / intervalMs) + 1);
      for (; scheduled < due; scheduled++) {
        if (stop && start + scheduled * intervalMs > now) break; // cut short by the signal: not due yet
        backlog.push(start + scheduled * intervalMs);
      }
      drain();
      if (stop) done();
      else setTimeout(tick, 1);
    };
    tick();
  });
  const notSent = backlog.length + (intended - scheduled);
  backlog.length = 0;
  const elapsedS = Math.max(options.durationMs, performance.now() - start) / 1000;
  if (inFlight > 0) await new Promise<void>((r) => (onIdle = r));
  if (options.agent === undefined) agent.destroy();

  const pct = (h: LatencyHistogram): OpenPercentiles => ({
    p50: h.percentile(0.5),
    p99: h.percentile(0.99),
    p999: h.percentile(0.999),
    max: h.max,
  });
  return {
    rate: options.rate,
    durationS: options.durationMs / 1000,
    intended,
    sent: tally.sent,
    late: tally.late,
    notSent,
    maxSendDelayMs: tally.maxSendDelayMs,
    responses: tally.responses,
    statusCodes,
    status2xx: tally.status2xx,
    status503WithRetryAfter: tally.withRetryAfter,
    status503WithoutRetryAfter: tally.withoutRetryAfter,
    timeouts: tally.timeouts,
    socketErrors: tally.socketErrors,
    successPerSec: tally.status2xx / elapsedS,
    success: pct(histograms.success),
    all: pct(histograms.all),
    service: pct(histograms.service),
  };
}
