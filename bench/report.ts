/**
 * The bench as markdown, ready to paste into docs/BENCHMARKS.md: one table
 * per endpoint with every contender side by side and its ratio to Holdfast
 * (a), then the sustained check, the pool sweep and the targets.
 */
import { overloadMarkdown } from './overload.ts';
import { formatCount, formatMs, formatPercent, formatRate, formatRatio, markdownTable } from '../scripts/loadtest/format.ts';
import { endpointTitle, ENDPOINT_IDS } from './endpoints.ts';
import { LETTERS } from './plan.ts';
import { summariseSweep } from './sweep.ts';
import type { BenchReport, CellResult } from './results.ts';

function errors(cell: CellResult): string {
  const r = cell.result;
  if (r === undefined) return cell.error === undefined ? 'no result' : `failed: ${cell.error.split('\n')[0]}`;
  const parts: string[] = [];
  if (r.timeouts > 0) parts.push(`${formatCount(r.timeouts)} timeouts`);
  if (r.socketErrors > 0) parts.push(`${formatCount(r.socketErrors)} socket`);
  if (r.non2xx > 0) parts.push(`${formatCount(r.non2xx)} ${cell.kind === 'pgbench' ? 'failed' : 'non-2xx'}`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/** The Holdfast rate a cell is compared with: same endpoint and concurrency (pgbench: the product cell at c=100, or the nearest). */
function referenceRate(report: BenchReport, cell: CellResult): number | undefined {
  const ours = report.cells.filter((c) => c.server === report.reference && c.endpoint === cell.endpoint && c.result !== undefined);
  if (cell.kind !== 'pgbench') return ours.find((c) => c.concurrency === cell.concurrency)?.result?.reqPerSec;
  const nearest = [...ours].sort((a, b) => Math.abs(a.concurrency - 100) - Math.abs(b.concurrency - 100))[0];
  return nearest?.result?.reqPerSec;
}

function contenderName(cell: CellResult): string {
  const letter = LETTERS[cell.kind];
  return cell.kind === 'pgbench' ? `(${letter}) pgbench -M prepared` : `(${letter}) ${cell.server}`;
}

/**
 * @example
 * writeFileSync('reports/bench-….md', benchMarkdown(report));
 */
export function benchMarkdown(report: BenchReport): string {
  const o = report.options;
  const out: string[] = [
    `# Bench, ${report.startedAt}`,
    '',
    `Node ${report.machine.node}, ${report.machine.cpus} CPUs (load average at start ${report.machine.loadAverage.map((l) => l.toFixed(2)).join(', ')}). ` +
      `Driver: ${report.driver}; ${o.warmupS} s warm-up then ${o.durationS} s per cell; request timeout ${o.timeoutS} s. ` +
      `Contenders ran one at a time on the same data: ${formatCount(report.data.products)} products, ${formatCount(report.data.customers)} customers, ` +
      `${formatCount(report.data.orders)} orders (${report.data.database}); deep page ${formatCount(report.data.deepPage)} = OFFSET ${formatCount(report.data.deepOffset)}.`,
    '',
    `Holdfast (a) settings over its defaults: ${
      Object.entries(report.holdfastEnv)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || 'none'
    }. Ratios are req/s against \`${report.reference}\`.`,
  ];
  for (const endpoint of ENDPOINT_IDS) {
    const cells = report.cells.filter((c) => c.endpoint === endpoint && c.poolSize === undefined);
    if (cells.length === 0) continue;
    cells.sort((a, b) => (a.kind === 'pgbench' ? 1 : 0) - (b.kind === 'pgbench' ? 1 : 0) || a.concurrency - b.concurrency);
    out.push('', `## ${endpointTitle(endpoint, report.data.deepPage)}`, '');
    out.push(
      markdownTable(
        ['contender', 'conns', 'req/s', 'p50', 'p99', 'errors', `× (a)`, 'peak RSS'],
        cells.map((c) => {
          const ref = referenceRate(report, c);
          return [
            contenderName(c),
            c.kind === 'pgbench' ? `${c.concurrency} clients` : String(c.concurrency),
            formatRate(c.result?.reqPerSec),
            formatMs(c.result?.p50Ms),
            formatMs(c.result?.p99Ms),
            errors(c),
            c.result === undefined || ref === undefined ? '—' : formatRatio(c.result.reqPerSec / ref),
            c.rssPeakMb === undefined ? '—' : `${c.rssPeakMb} MB`,
          ];
        }),
      ),
    );
  }
  const r = report.resilience;
  if (r !== undefined) {
    out.push('', `## Sustained load: ${r.server}, product by id (autocannon)`, '');
    out.push(
      markdownTable(
        ['conns', 'seconds', 'req/s', '2xx', '503', 'other', 'timeouts', 'socket errors', 'p99 (all)', 'p99 (2xx)', 'success'],
        [r.baseline, r.sustained].map((s) => [
          String(s.connections),
          s.durationS.toFixed(1),
          formatRate(s.reqPerSec),
          formatCount(s.status2xx),
          formatCount(s.status503),
          formatCount(s.statusOther + s.status429),
          formatCount(s.timeouts),
          formatCount(s.socketErrors),
          formatMs(s.latency.p99),
          formatMs(s.successLatency.p99),
          formatPercent(s.successRate),
        ]),
      ),
      '',
      `Peak RSS during the sustained run: ${r.rssPeakMb === undefined ? 'not measured' : `${r.rssPeakMb} MB`}.`,
    );
  }
  if (report.overload !== undefined) out.push('', overloadMarkdown(report.overload));
  const sweep = summariseSweep(report.cells);
  if (sweep.length > 0) {
    out.push('', '## DB_POOL_MAX sweep: Holdfast, product by id', '');
    out.push(
      markdownTable(
        ['DB_POOL_MAX', 'conns', 'req/s (median)', 'rounds', 'p99 (median)', 'errors', '% of best'],
        sweep.map((row) => {
          const best = Math.max(...sweep.filter((s) => s.concurrency === row.concurrency).map((s) => s.median));
          return [
            String(row.poolSize),
            String(row.concurrency),
            formatRate(row.median),
            row.runs.map((r) => formatRate(r)).join(' · '),
            formatMs(row.p99Ms),
            String(row.errors),
            best === 0 ? '—' : `${((row.median / best) * 100).toFixed(0)}%`,
          ];
        }),
      ),
    );
  }
  out.push('', '## Targets', '');
  out.push(
    markdownTable(
      ['target', 'wanted', 'measured', 'result'],
      report.targets.map((t) => [t.target, t.wanted, t.measured, t.pass === null ? 'not measured' : t.pass ? 'met' : 'MISSED']),
    ),
    '',
  );
  return out.join('\n');
}
