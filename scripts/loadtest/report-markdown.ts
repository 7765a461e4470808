/**
 * The load test's results as markdown, shaped like the original report's
 * "Performance Expectations" table (Load Level | … | Bottleneck), with the
 * measured numbers in place of the guesses, and a second table with the
 * server-side numbers that decided each Bottleneck.
 */
import { openModelMarkdown } from './open-report.ts';
import { formatCount, formatMs, formatPercent, formatRate, markdownTable } from './format.ts';
import type { LoadtestReport } from './report-types.ts';
import type { LevelResult } from './types.ts';

function loop(level: LevelResult): string {
  const { eventLoopUtilization: elu, eventLoopLagP99Ms: lag } = level.server;
  if (elu !== undefined) return elu.toFixed(2);
  return lag === undefined ? '—' : `lag ${formatMs(lag)}`;
}

/**
 * @example
 * console.log(levelsMarkdown(report.levels));
 */
export function levelsMarkdown(levels: readonly LevelResult[]): string {
  const main = markdownTable(
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
    levels.map((l) => {
      const c = l.client;
      return [
        `${l.users} users`,
        formatPercent(c.successRate),
        formatRate(c.reqPerSec),
        formatMs(c.latency.p50),
        formatMs(c.latency.p95),
        formatMs(c.latency.p99),
        l.bottleneck,
        formatCount(c.requests),
        formatCount(c.status2xx),
        formatCount(c.status429),
        formatCount(c.status503),
        formatCount(c.statusOther),
        formatCount(c.timeouts),
        formatCount(c.socketErrors),
      ];
    }),
  );
  const server = markdownTable(
    ['Load Level', 'pool wait p99', 'query p99', 'event loop', 'shed', 'rate-limited', 'pool refused', 'RSS', 'why'],
    levels.map((l) => {
      const s = l.server;
      return [
        `${l.users} users`,
        formatMs(s.acquireP99Ms),
        formatMs(s.queryP99Ms),
        loop(l),
        formatCount(s.shed),
        formatCount(s.rateLimited),
        formatCount(s.poolRefused),
        s.rssMb === undefined ? '—' : `${s.rssMb} MB`,
        l.reason,
      ];
    }),
  );
  return `${main}\n\nServer side (from /metrics, per level):\n\n${server}`;
}

/**
 * The whole report as a markdown document.
 *
 * @example
 * writeFileSync('reports/loadtest.md', reportMarkdown(report));
 */
export function reportMarkdown(report: LoadtestReport): string {
  const o = report.options;
  return [
    `# Load test, ${report.startedAt}`,
    '',
    `Target ${report.target.url}${report.target.spawned ? ' (started for this run' + (report.target.database === undefined ? '' : `, database ${report.target.database}`) + ')' : ''}; ` +
      `mix ${o.mix}; ${o.amount === undefined ? `${o.durationS} s per level` : `${o.amount} requests`}; request timeout ${o.timeoutS} s; ` +
      `Node ${report.machine.node} on ${report.machine.cpus} CPUs.`,
    '',
    report.open === undefined ? levelsMarkdown(report.levels) : openModelMarkdown(report.open, { rssMb: report.open.rssMb }),
    '',
  ].join('\n');
}
