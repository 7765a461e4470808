/**
 * Counts what the load generator saw, response by response, and turns the
 * counts into a {@link ClientSample}. Kept apart from autocannon so the
 * arithmetic (what a success is, what counts as a socket error) is tested
 * without a network.
 */
import { LatencyHistogram } from './latency.ts';
import type { ClientSample, Percentiles } from './types.ts';

function percentiles(h: LatencyHistogram): Percentiles {
  const r = (n: number) => Math.round(n * 100) / 100;
  return { p50: r(h.percentile(0.5)), p95: r(h.percentile(0.95)), p99: r(h.percentile(0.99)), max: r(h.max) };
}

/**
 * @example
 * const tally = new ClientTally();
 * tally.response(200, 4.2);
 * tally.toSample({ connections: 10, durationS: 1, timeouts: 0, errors: 0 }).successRate; // 1
 */
export class ClientTally {
  readonly all = new LatencyHistogram();
  readonly success = new LatencyHistogram();
  readonly statusCodes = new Map<number, number>();
  retryAfterMissing = 0;

  response(status: number, ms: number): void {
    this.statusCodes.set(status, (this.statusCodes.get(status) ?? 0) + 1);
    this.all.record(ms);
    if (status >= 200 && status < 300) this.success.record(ms);
  }

  /** Called for each 503 with whether it carried Retry-After. */
  unavailable(hasRetryAfter: boolean): void {
    if (!hasRetryAfter) this.retryAfterMissing++;
  }

  /**
   * `errors` as autocannon counts them: every failed request, timeouts included.
   */
  toSample(run: { connections: number; durationS: number; timeouts: number; errors: number }): ClientSample {
    let status2xx = 0;
    let status429 = 0;
    let status503 = 0;
    let responses = 0;
    const statusCodes: Record<string, number> = {};
    for (const [code, n] of [...this.statusCodes].sort((a, b) => a[0] - b[0])) {
      statusCodes[String(code)] = n;
      responses += n;
      if (code >= 200 && code < 300) status2xx += n;
      else if (code === 429) status429 += n;
      else if (code === 503) status503 += n;
    }
    const socketErrors = Math.max(0, run.errors - run.timeouts);
    const requests = responses + run.timeouts + socketErrors;
    return {
      connections: run.connections,
      durationS: run.durationS,
      requests,
      responses,
      status2xx,
      status429,
      status503,
      statusOther: responses - status2xx - status429 - status503,
      timeouts: run.timeouts,
      socketErrors,
      successRate: requests === 0 ? 0 : status2xx / requests,
      reqPerSec: run.durationS > 0 ? Math.round((responses / run.durationS) * 10) / 10 : 0,
      latency: percentiles(this.all),
      successLatency: percentiles(this.success),
      retryAfterMissing: this.retryAfterMissing,
      statusCodes,
    };
  }
}

/**
 * Whether a header object (any capitalisation) has Retry-After.
 *
 * @example
 * hasRetryAfter({ 'retry-after': '1' }); // true
 */
export function hasRetryAfter(headers: Readonly<Record<string, unknown>> | undefined): boolean {
  return headers !== undefined && Object.keys(headers).some((k) => k.toLowerCase() === 'retry-after');
}
