/**
 * What every load driver returns for one measured run, whichever tool made
 * the load, so the report can set wrk, autocannon and pgbench numbers side
 * by side.
 */

/**
 * @example
 * const r: DriverResult = { requests: 160_000, durationS: 10, reqPerSec: 16_000, p50Ms: 6, p99Ms: 10.3,
 *   timeouts: 0, socketErrors: 0, non2xx: 0 };
 */
export interface DriverResult {
  /** Completed requests (or transactions, for pgbench). */
  requests: number;
  durationS: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  timeouts: number;
  socketErrors: number;
  /** Answers that were not 2xx/3xx (pgbench: failed transactions). */
  non2xx: number;
  /** Per-status counts, when the driver reports them. */
  statusCodes?: Record<string, number>;
}

/**
 * One HTTP load run.
 *
 * @example
 * const spec: HttpRunSpec = { baseUrl, template: '/api/products/{product}', ranges, connections: 100, durationMs: 10_000, timeoutS: 10 };
 */
export interface HttpRunSpec {
  baseUrl: string;
  /** Path; `{product}` and `{customer}` become random ids per request. */
  template: string;
  ranges: { product: number; customer: number };
  /** How the ids are drawn; absent: uniform. */
  ids?: 'uniform' | 'zipf';
  connections: number;
  durationMs: number;
  timeoutS: number;
}

/**
 * A load generator for HTTP contenders.
 *
 * @example
 * const result = await driver.run(spec);
 */
export interface HttpDriver {
  name: string;
  /** e.g. `wrk 4.1.0, 2 threads` */
  describe(): string;
  run(spec: HttpRunSpec): Promise<DriverResult>;
}
