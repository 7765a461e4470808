/**
 * /admin/queries as terminal text, for `npm run queries`.
 *
 * Plain fixed-width columns (no table library: the layout is one loop) so
 * the output survives `less`, CI logs and copy-paste into a ticket. Plans
 * are shown as an indented tree of node types with cost and row estimates,
 * which is what one reads first in a plan; the full JSON stays on the page.
 *
 * @example
 * process.stdout.write(formatQueriesReport(await res.json(), { width: 160 }));
 */
import type { QueriesReport } from './admin-route.ts';

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Alias?: string;
  'Total Cost'?: number;
  'Plan Rows'?: number;
  Plans?: PlanNode[];
}

const MAX_PLAN_LINES = 12;

/**
 * @example
 * formatQueriesReport(report); // 'Top 3 statements by total time …'
 */
export function formatQueriesReport(report: QueriesReport, options: { width?: number } = {}): string {
  const width = Math.max(100, options.width ?? 140);
  const out: string[] = [];
  const t = report.totals;
  out.push(
    `Holdfast query profile at ${report.generatedAt}: ${t.queries} statements, ${t.slowQueries} slow (> ${report.settings.slowQueryMs} ms), ` +
      `${t.nPlusOne} N+1, ${t.fingerprints} fingerprints tracked (${t.fingerprintsEvicted} evicted), ${t.plansCaptured} plans`,
    '',
  );

  const headers = ['#', 'id', 'calls', 'total ms', 'mean', 'p95', 'max', 'rows', 'wait avg', 'err', 'slow', 'plan'];
  const rows = report.statements.map((s, i) => [
    String(i + 1),
    s.id,
    String(s.calls),
    ms(s.totalMs),
    ms(s.meanMs),
    ms(s.p95Ms),
    ms(s.maxMs),
    String(s.rows),
    ms(s.wait.meanMs),
    String(s.errors),
    String(s.slowCalls),
    s.plan === null ? '' : 'yes',
  ]);
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c <= 1 || c === 11 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const used = line(headers).length + 2;
  const textWidth = Math.max(30, width - used);
  out.push(`Top ${rows.length} statements by total execution time (ms):`);
  out.push(`${line(headers)}  statement`);
  report.statements.forEach((s, i) => out.push(`${line(rows[i]!)}  ${cut(s.fingerprint, textWidth)}`));
  if (rows.length === 0) out.push('(no statements recorded yet)');

  const planned = report.statements.filter((s) => s.plan !== null);
  if (planned.length > 0) {
    out.push('', 'Plans (EXPLAIN, values redacted):');
    for (const s of planned) {
      out.push(`${s.id}  captured ${s.plan!.capturedAt} after a ${ms(s.plan!.triggerMs)} ms run`);
      out.push(...planLines(s.plan!.plan).map((l) => `  ${l}`));
    }
  }

  if (report.nPlusOne.length > 0) {
    out.push('', `Recent N+1 (same statement more than ${report.settings.nPlusOneThreshold} times in one request):`);
    for (const v of report.nPlusOne) {
      out.push(`${v.at}  ${v.route}  ×${v.count}  ${v.fingerprintId}  ${cut(v.fingerprint, width - 60)}  (request ${v.requestId})`);
    }
  }

  out.push('');
  const pg = report.pgStatStatements;
  if (pg.available) {
    out.push(`pg_stat_statements (${pg.schema}), top ${pg.statements.length} by total execution time (ms):`);
    const pgHeaders = ['calls', 'total ms', 'mean', 'max', 'rows'];
    const pgRows = pg.statements.map((p) => [String(p.calls), ms(p.totalMs), ms(p.meanMs), ms(p.maxMs), String(p.rows)]);
    const pw = pgHeaders.map((h, c) => Math.max(h.length, ...pgRows.map((r) => r[c]!.length)));
    const pgLine = (cells: string[]) => cells.map((cell, c) => cell.padStart(pw[c]!)).join('  ');
    out.push(`${pgLine(pgHeaders)}  query`);
    pg.statements.forEach((p, i) => out.push(`${pgLine(pgRows[i]!)}  ${cut(p.query, width - pgLine(pgHeaders).length - 2)}`));
  } else {
    out.push(`pg_stat_statements: not available: ${pg.reason}`);
  }
  return `${out.join('\n')}\n`;
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function cut(text: string, width: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= width ? oneLine : `${oneLine.slice(0, Math.max(1, width - 1))}…`;
}

/** The plan as an indented tree, one node per line. */
function planLines(plan: unknown): string[] {
  const root = Array.isArray(plan) ? (plan[0] as { Plan?: PlanNode } | undefined)?.Plan : undefined;
  if (root === undefined) return ['(no plan)'];
  const lines: string[] = [];
  const visit = (node: PlanNode, depth: number) => {
    if (lines.length >= MAX_PLAN_LINES) return;
    const on = node['Relation Name'] === undefined ? '' : ` on ${node['Relation Name']}`;
    const using = node['Index Name'] === undefined ? '' : ` using ${node['Index Name']}`;
    lines.push(
      `${'  '.repeat(depth)}${depth > 0 ? '-> ' : ''}${node['Node Type'] ?? '?'}${using}${on}  (cost ${node['Total Cost'] ?? '?'}, rows ${node['Plan Rows'] ?? '?'})`,
    );
    for (const child of node.Plans ?? []) visit(child, depth + 1);
  };
  visit(root, 0);
  return lines;
}
