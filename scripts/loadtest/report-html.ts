/**
 * The load test as one self-contained HTML page: three inline SVG charts
 * (req/s, p99 and success % against users) and the tables. No script, no
 * stylesheet link, no font or CDN: it opens the same offline, from a mail
 * attachment or a CI artifact.
 */
import { formatCount, formatMs, formatPercent, formatRate } from './format.ts';
import type { LoadtestReport } from './report-types.ts';
import { escapeXml, lineChart } from './svg-chart.ts';

function table(header: readonly string[], rows: readonly (readonly string[])[], className = ''): string {
  const th = header.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table${className === '' ? '' : ` class="${className}"`}><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

/**
 * @example
 * writeFileSync('reports/loadtest.html', reportHtml(report));
 */
export function reportHtml(report: LoadtestReport): string {
  const labels = report.levels.map((l) => String(l.users));
  const point = (value: (i: number) => number) => labels.map((label, i) => ({ label, value: value(i) }));
  const levels = report.levels;
  const charts = [
    lineChart({
      title: 'Throughput (req/s)',
      xLabel: 'users',
      points: point((i) => levels[i]!.client.reqPerSec),
      format: (v) => formatRate(v),
    }),
    lineChart({
      title: 'Latency p99 (ms)',
      xLabel: 'users',
      points: point((i) => levels[i]!.client.latency.p99),
      format: (v) => v.toFixed(v < 10 ? 1 : 0),
    }),
    lineChart({
      title: 'Success (%)',
      xLabel: 'users',
      points: point((i) => levels[i]!.client.successRate * 100),
      yMax: 100,
      format: (v) => `${v.toFixed(0)}%`,
    }),
  ];
  const main = table(
    [
      'Load Level',
      'Success',
      'req/s',
      'p50',
      'p95',
      'p99',
      'Bottleneck',
      'Requests',
      '2xx',
      '429',
      '503',
      'other',
      'timeouts',
      'socket errors',
    ],
    levels.map((l) => [
      `${l.users} users`,
      formatPercent(l.client.successRate),
      formatRate(l.client.reqPerSec),
      formatMs(l.client.latency.p50),
      formatMs(l.client.latency.p95),
      formatMs(l.client.latency.p99),
      l.bottleneck,
      formatCount(l.client.requests),
      formatCount(l.client.status2xx),
      formatCount(l.client.status429),
      formatCount(l.client.status503),
      formatCount(l.client.statusOther),
      formatCount(l.client.timeouts),
      formatCount(l.client.socketErrors),
    ]),
  );
  const server = table(
    [
      'Load Level',
      'pool wait p99',
      'query p99',
      'event-loop utilisation',
      'loop delay p99',
      'shed',
      'rate-limited',
      'pool refused',
      'RSS',
      'why',
    ],
    levels.map((l) => [
      `${l.users} users`,
      formatMs(l.server.acquireP99Ms),
      formatMs(l.server.queryP99Ms),
      l.server.eventLoopUtilization?.toFixed(2) ?? '—',
      formatMs(l.server.eventLoopLagP99Ms),
      formatCount(l.server.shed),
      formatCount(l.server.rateLimited),
      formatCount(l.server.poolRefused),
      l.server.rssMb === undefined ? '—' : `${l.server.rssMb} MB`,
      l.reason,
    ]),
    'attribution',
  );
  const o = report.options;
  const summary = `Target ${report.target.url}${report.target.spawned ? ' (started for this run)' : ''} · mix ${o.mix} · ${
    o.amount === undefined ? `${o.durationS} s per level` : `${o.amount} requests`
  } · Node ${report.machine.node}, ${report.machine.cpus} CPUs · ${report.startedAt}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Holdfast load test ${escapeXml(report.startedAt)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f3f3f3; }
.attribution td:last-child { text-align: left; }
</style>
</head>
<body>
<h1>Holdfast load test</h1>
<p>${escapeXml(summary)}</p>
<div class="charts">
${charts.join('\n')}
</div>
<h2>Per level</h2>
${main}
<h2>Server side (from /metrics)</h2>
${server}
</body>
</html>
`;
}
