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

/**
 * With `--rounds`, the cells of one contender, endpoint and concurrency as
 * one: the median req/s, p50 and p99 of the rounds, each round's req/s (the
 * spread), errors summed and the highest RSS. One round: the cell itself.
 * The pool sweep's cells are left alone (sweep.ts summarises them).
 */
export function mergeRounds(cells: readonly CellResult[]): (CellResult & { runs?: number[] })[] {
  const groups = new Map<string, CellResult[]>();
  for (const c of cells) {
    const key = c.poolSize !== undefined ? `sweep\u0000${groups.size}` : `${c.server}\u0000${c.endpoint}\u0000${c.concurrency}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }
  return [...groups.values()].map((group) => {
    const measured = group.filter((c) => c.result !== undefined);
    if (group.length === 1 || measured.length === 0) return group[0]!;
    const results = measured.map((c) => c.result!);
    const rss = measured.map((c) => c.rssPeakMb).filter((v): v is number => v !== undefined);
    const sum = (f: (r: (typeof results)[number]) => number) => results.reduce((n, r) => n + f(r), 0);
    return {
      ...measured[0]!,
      result: {
        requests: sum((r) => r.requests),
        durationS: sum((r) => r.durationS),
        reqPerSec: median(results.map((r) => r.reqPerSec)),
        p50Ms: median(results.map((r) => r.p50Ms)),
        p99Ms: median(results.map((r) => r.p99Ms)),
        timeouts: sum((r) => r.timeouts),
        socketErrors: sum((r) => r.socketErrors),
        non2xx: sum((r) => r.non2xx),
      },
      ...(rss.length === 0 ? {} : { rssPeakMb: Math.max(...rss) }),
      runs: results.map((r) => r.reqPerSec),
    };
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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
  const rounds = (o.rounds ?? 1) > 1;
  const merged = { ...report, cells: mergeRounds(report.cells.filter((c) => c.poolSize === undefined)) };
  if (rounds)
    out.push(
      '',
      `Each cell ran ${o.rounds} times, round-robin over the contenders; req/s, p50 and p99 are the medians, "rounds" each round's req/s.`,
    );
  for (const endpoint of ENDPOINT_IDS) {
    const cells = merged.cells.filter((c) => c.endpoint === endpoint);
    if (cells.length === 0) continue;
    cells.sort((a, b) => (a.kind === 'pgbench' ? 1 : 0) - (b.kind === 'pgbench' ? 1 : 0) || a.concurrency - b.concurrency);
    out.push('', `## ${endpointTitle(endpoint, report.data.deepPage)}`, '');
    out.push(
      markdownTable(
        [
          'contender',
          'conns',
          rounds ? 'req/s (median)' : 'req/s',
          ...(rounds ? ['rounds'] : []),
          'p50',
          'p99',
          'errors',
          `× (a)`,
          'peak RSS',
        ],
        cells.map((c) => {
          const ref = referenceRate(merged, c);
          return [
            contenderName(c),
            c.kind === 'pgbench' ? `${c.concurrency} clients` : String(c.concurrency),
            formatRate(c.result?.reqPerSec),
            ...(rounds ? [(c.runs ?? [c.result?.reqPerSec ?? 0]).map((r) => formatRate(r)).join(' · ')] : []),
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
