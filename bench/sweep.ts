/**
 * The DB_POOL_MAX sweep, summarised: one row per pool size and concurrency,
 * with the median of its rounds. On a shared two-core machine one 10-second
 * cell varies by ±15% from run to run with nothing changed, which is more
 * than the 10% the target allows, so the sweep runs each size several times,
 * interleaved, and compares medians. Pure.
 */
import type { CellResult } from './results.ts';

/** @example const row: SweepRow = { poolSize: 10, concurrency: 100, runs: [21000, 23000, 22000], median: 22000, p99Ms: 9.1, errors: 0 }; */
export interface SweepRow {
  poolSize: number;
  concurrency: number;
  /** req/s of each round, in the order run. */
  runs: number[];
  median: number;
  /** Median p99 of the rounds. */
  p99Ms: number;
  /** Timeouts, socket errors and non-2xx over all rounds. */
  errors: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * @example
 * summariseSweep(report.cells).filter((r) => r.concurrency === 100);
 */
export function summariseSweep(cells: readonly CellResult[]): SweepRow[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    if (c.poolSize === undefined || c.result === undefined) continue;
    const key = `${c.poolSize}/${c.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()]
    .map((group) => {
      const results = group.map((c) => c.result!);
      return {
        poolSize: group[0]!.poolSize!,
        concurrency: group[0]!.concurrency,
        runs: results.map((r) => r.reqPerSec),
        median: median(results.map((r) => r.reqPerSec)),
        p99Ms: median(results.map((r) => r.p99Ms)),
        errors: results.reduce((n, r) => n + r.timeouts + r.socketErrors + r.non2xx, 0),
      };
    })
    .sort((a, b) => a.concurrency - b.concurrency || a.poolSize - b.poolSize);
}
