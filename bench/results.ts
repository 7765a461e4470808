/**
 * The bench's results as stored in its JSON report and read by the targets
 * and the markdown table.
 */
import type { OverloadResult } from './overload.ts';
import type { ClientSample } from '../scripts/loadtest/types.ts';
import type { DriverResult } from './drivers/types.ts';
import type { EndpointId } from './endpoints.ts';
import type { ContenderKind } from './plan.ts';

/**
 * One measured cell: a contender, an endpoint, a concurrency.
 *
 * @example
 * const cell: CellResult = { server: 'fastify-pg', kind: 'fastify-pg', endpoint: 'product', concurrency: 100, result };
 */
export interface CellResult {
  /** The run's label, e.g. `holdfast (adaptive off)`. */
  server: string;
  kind: ContenderKind;
  endpoint: EndpointId;
  /** HTTP connections, or pgbench clients. */
  concurrency: number;
  result?: DriverResult;
  /** Why the cell has no result (the contender failed to start, the driver failed, …). */
  error?: string;
  /** Peak RSS of the server process during the cell. */
  rssPeakMb?: number;
  /** Set on the cells of the DB_POOL_MAX sweep. */
  poolSize?: number;
  /** Which round of the sweep (1-based). */
  round?: number;
}

/**
 * The sustained check: Holdfast on product by id at c=100, then c=1000, with
 * autocannon, which sees every status code and Retry-After header.
 *
 * @example
 * resilience.sustained.successLatency.p99; // 180
 */
export interface ResilienceResult {
  server: string;
  baseline: ClientSample;
  sustained: ClientSample;
  rssPeakMb?: number;
}

/**
 * One of the targets, checked. `pass: null` means it was not measured in this run.
 *
 * @example
 * const t: TargetCheck = { target: 'health at c=100 vs constant Fastify', wanted: '≥ 0.9×', measured: '0.93×', pass: true };
 */
export interface TargetCheck {
  target: string;
  wanted: string;
  measured: string;
  pass: boolean | null;
}

/**
 * The whole bench, as written to reports/bench-*.json.
 *
 * @example
 * const report: BenchReport = JSON.parse(readFileSync('reports/bench-….json', 'utf8'));
 */
export interface BenchReport {
  kind: 'holdfast-bench';
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: { node: string; platform: string; cpus: number; loadAverage: number[] };
  driver: string;
  options: {
    durationS: number;
    warmupS: number;
    sustainS: number;
    /** Absent in reports written before the overload cell. */
    overloadS?: number;
    timeoutS: number;
    concurrency: number[];
    endpoints: EndpointId[];
    contenders: ContenderKind[];
    pgbenchClients: number[];
    adaptive: boolean[];
    /** Absent in reports written before batched reads existed. */
    batch?: boolean[];
    poolSizes: number[];
    /** Absent in reports written before the sweep had rounds (one round). */
    sweepRounds?: number;
    /** Trace sampling ratios of the tracing cells (0: off). */
    tracing?: number[];
    /** CACHE_ENABLED values of the cache cells. */
    cache?: boolean[];
    /** Rounds of the whole plan (absent: one). */
    rounds?: number;
    /** How ids were drawn (absent: uniform). */
    ids?: 'uniform' | 'zipf';
  };
  data: { database: string; products: number; customers: number; orders: number; deepPage: number; deepOffset: number };
  /** Holdfast's settings on top of its defaults (secrets masked). */
  holdfastEnv: Record<string, string>;
  reference: string;
  cells: CellResult[];
  resilience?: ResilienceResult;
  /** `--overload`: the open-model overload cell. */
  overload?: OverloadResult;
  targets: TargetCheck[];
}
