/**
 * The issue's targets, checked against one bench run. Pure: it only reads
 * results, so a stored JSON report can be re-checked later.
 *
 *  - health ≥ 0.9× constant Fastify;
 *  - product by id (uncached) at c=100 ≥ 1.0× the bare Fastify+pg floor and ≥ 1.5× naive Express;
 *  - at c=1000 for 15 s: no timeouts or socket errors, no 5xx but a 503 with
 *    Retry-After, p99 of successes ≤ 250 ms, 2xx throughput ≥ 90% of c=100;
 *  - RSS ≤ 250 MB at c=1000;
 *  - DB_POOL_MAX 5, 10, 20 and 40 within 10% of the best (medians of the sweep's rounds).
 */
import { formatMs, formatRatio, formatRate } from '../scripts/loadtest/format.ts';
import type { CellResult, ResilienceResult, TargetCheck } from './results.ts';
import { summariseSweep } from './sweep.ts';

const RSS_LIMIT_MB = 250;
const P99_LIMIT_MS = 250;

function rate(cells: readonly CellResult[], server: string, endpoint: string, concurrency: number): number | undefined {
  return cells.find((c) => c.server === server && c.endpoint === endpoint && c.concurrency === concurrency && c.poolSize === undefined)
    ?.result?.reqPerSec;
}

function ratioCheck(target: string, wanted: number, ours: number | undefined, theirs: number | undefined): TargetCheck {
  if (ours === undefined || theirs === undefined || theirs === 0)
    return { target, wanted: `≥ ${wanted.toFixed(1)}×`, measured: 'not measured', pass: null };
  const r = ours / theirs;
  return {
    target,
    wanted: `≥ ${wanted.toFixed(1)}×`,
    measured: `${formatRatio(r)} (${formatRate(ours)} vs ${formatRate(theirs)} req/s)`,
    pass: r >= wanted,
  };
}

/**
 * @example
 * evaluateTargets({ cells, reference: 'holdfast', resilience }).filter((t) => t.pass === false);
 */
export function evaluateTargets(input: {
  cells: readonly CellResult[];
  reference: string;
  resilience?: ResilienceResult | undefined;
}): TargetCheck[] {
  const { cells, reference, resilience } = input;
  const checks: TargetCheck[] = [];
  const concurrencies = [...new Set(cells.filter((c) => c.kind !== 'pgbench').map((c) => c.concurrency))].sort((a, b) => a - b);

  for (const c of concurrencies) {
    const ours = rate(cells, reference, 'health', c);
    const ceiling = rate(cells, 'fastify-constant', 'health', c);
    if (ours !== undefined || ceiling !== undefined) checks.push(ratioCheck(`health at c=${c} vs constant Fastify`, 0.9, ours, ceiling));
  }
  const productC = concurrencies.includes(100) ? 100 : concurrencies[0];
  if (productC !== undefined) {
    const ours = rate(cells, reference, 'product', productC);
    checks.push(
      ratioCheck(`product by id at c=${productC} vs Fastify + pg floor`, 1.0, ours, rate(cells, 'fastify-pg', 'product', productC)),
    );
    checks.push(
      ratioCheck(`product by id at c=${productC} vs naive Express`, 1.5, ours, rate(cells, 'express-naive', 'product', productC)),
    );
  }

  if (resilience === undefined) {
    checks.push({ target: 'sustained c=1000 checks', wanted: 'run', measured: 'not measured', pass: null });
  } else {
    const s = resilience.sustained;
    const label = `c=${s.connections} for ${Math.round(s.durationS)} s`;
    const failures = s.timeouts + s.socketErrors;
    checks.push({
      target: `${label}: timeouts and socket errors`,
      wanted: '0',
      measured: `${s.timeouts} timeouts, ${s.socketErrors} socket errors`,
      pass: failures === 0,
    });
    const other5xx = Object.entries(s.statusCodes)
      .filter(([code]) => code.startsWith('5') && code !== '503')
      .reduce((n, [, v]) => n + v, 0);
    checks.push({
      target: `${label}: 5xx other than 503 with Retry-After`,
      wanted: '0',
      measured: `${other5xx} other 5xx; ${s.status503} 503s, ${s.retryAfterMissing} without Retry-After`,
      pass: other5xx === 0 && s.retryAfterMissing === 0,
    });
    checks.push({
      target: `${label}: p99 of successes`,
      wanted: `≤ ${P99_LIMIT_MS} ms`,
      measured: s.status2xx === 0 ? 'no successes' : formatMs(s.successLatency.p99),
      pass: s.status2xx > 0 && s.successLatency.p99 <= P99_LIMIT_MS,
    });
    const goodput = (x: typeof s) => (x.durationS > 0 ? x.status2xx / x.durationS : 0);
    const share = goodput(resilience.baseline) > 0 ? goodput(s) / goodput(resilience.baseline) : 0;
    checks.push({
      target: `${label}: 2xx throughput vs c=${resilience.baseline.connections}`,
      wanted: '≥ 90%',
      measured: `${(share * 100).toFixed(0)}% (${formatRate(goodput(s))} vs ${formatRate(goodput(resilience.baseline))} 2xx/s)`,
      pass: share >= 0.9,
    });
    checks.push({
      target: `${label}: peak RSS`,
      wanted: `≤ ${RSS_LIMIT_MB} MB`,
      measured: resilience.rssPeakMb === undefined ? 'not measured' : `${resilience.rssPeakMb} MB`,
      pass: resilience.rssPeakMb === undefined ? null : resilience.rssPeakMb <= RSS_LIMIT_MB,
    });
  }

  const sweep = summariseSweep(cells);
  for (const c of [...new Set(sweep.map((s) => s.concurrency))]) {
    const rows = sweep.filter((s) => s.concurrency === c);
    const best = Math.max(...rows.map((r) => r.median));
    const worst = rows.reduce((w, r) => (r.median < w.median ? r : w));
    const share = best > 0 ? worst.median / best : 0;
    const rounds = Math.max(...rows.map((r) => r.runs.length));
    checks.push({
      target: `DB_POOL_MAX ${rows.map((r) => r.poolSize).join('/')} at c=${c}, product by id`,
      wanted: 'each within 10% of the best',
      measured: `worst (pool ${worst.poolSize}) at ${(share * 100).toFixed(0)}% of the best${rounds > 1 ? ` (medians of ${rounds} rounds)` : ''}`,
      pass: share >= 0.9,
    });
  }
  return checks;
}
