/**
 * The shapes a load level's results take, shared by the runner, the
 * classifier, the reports and the bench, so a JSON report read back later
 * means the same thing everywhere.
 */
import type { ServerSample } from './server-metrics.ts';

/**
 * Latency percentiles, in milliseconds.
 *
 * @example
 * const p: Percentiles = { p50: 6.1, p95: 14.2, p99: 22.5, max: 110 };
 */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * What the load generator saw during one level.
 *
 * @example
 * const c: ClientSample = { connections: 100, durationS: 10, requests: 52_000, responses: 52_000, status2xx: 52_000,
 *   status429: 0, status503: 0, statusOther: 0, timeouts: 0, socketErrors: 0, successRate: 1, reqPerSec: 5200,
 *   latency: { p50: 18, p95: 30, p99: 41, max: 90 }, successLatency: { p50: 18, p95: 30, p99: 41, max: 90 }, retryAfterMissing: 0 };
 */
export interface ClientSample {
  connections: number;
  durationS: number;
  /** Every request that ended: responses plus timeouts and socket errors. */
  requests: number;
  responses: number;
  status2xx: number;
  status429: number;
  status503: number;
  /** Responses that are neither 2xx, 429 nor 503. */
  statusOther: number;
  timeouts: number;
  /** Connection errors other than timeouts (refused, reset, …). */
  socketErrors: number;
  /** 2xx ÷ requests, 0..1. */
  successRate: number;
  /** Responses per second (any status). */
  reqPerSec: number;
  /** Over every response. */
  latency: Percentiles;
  /** Over 2xx responses only. */
  successLatency: Percentiles;
  /** 503 answers that came without a Retry-After header (a deliberate 503 always has one). */
  retryAfterMissing: number;
  /** Count of each status code seen. */
  statusCodes: Record<string, number>;
}

/**
 * The values of the report's Bottleneck column.
 *
 * @example
 * const b: Bottleneck = 'pool wait';
 */
export type Bottleneck = 'pool wait' | 'query time' | 'event loop' | 'rate limit' | 'memory' | 'none' | 'unknown';

/**
 * One level: the client's view, the server's, and the verdict.
 *
 * @example
 * report.levels.map((l: LevelResult) => `${l.users}: ${l.bottleneck}`);
 */
export interface LevelResult {
  users: number;
  client: ClientSample;
  server: ServerSample;
  bottleneck: Bottleneck;
  /** Why the classifier chose `bottleneck`, with the numbers. */
  reason: string;
}
