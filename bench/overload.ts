/**
 * The overload cell (issue 15, section 6): what Holdfast does when work
 * arrives faster than it can serve. A closed loop cannot ask this, since it
 * slows down with the server; so capacity is measured first with a closed
 * loop (c=100, successes per second), then the open-model generator
 * (scripts/loadtest/open-model.ts) offers half of it, for the reference
 * tail, and twice it for `overloadMs`, while the server's RSS is sampled.
 *
 * Its targets: successes ≥ 90% of capacity, p99 of successes ≤ 5× the p99 at
 * half capacity, every refusal a 503 with Retry-After, RSS < 250 MB.
 */
import { formatCount, formatMs, formatRate, markdownTable } from '../scripts/loadtest/format.ts';
import { sampleRssPeak, type ChildServer } from '../scripts/loadtest/child-process.ts';
import { openModelAgent, runOpenModel, type OpenModelResult } from '../scripts/loadtest/open-model.ts';
import { runLevel } from '../scripts/loadtest/run-level.ts';
import type { TargetCheck } from './results.ts';

/**
 * @example
 * report.overload?.overload.successPerSec;
 */
export interface OverloadResult {
  server: string;
  /** Closed loop, c=100: successes per second. */
  capacity: number;
  half: OpenModelResult;
  overload: OpenModelResult;
  rssPeakMb?: number;
}

const RSS_LIMIT_MB = 250;

/**
 * Measures capacity, then half and twice it in the open model.
 *
 * @example
 * const result = await runOverload(server, { label: 'holdfast', nextPath, warmupMs: 2000, durationMs: 10_000, overloadMs: 30_000, timeoutS: 10 });
 */
export async function runOverload(
  server: ChildServer,
  options: { label: string; nextPath: () => string; warmupMs: number; durationMs: number; overloadMs: number; timeoutS: number },
): Promise<OverloadResult> {
  const { nextPath, timeoutS } = options;
  if (options.warmupMs > 0) await runLevel({ baseUrl: server.url, connections: 100, durationMs: options.warmupMs, nextPath, timeoutS });
  const closed = await runLevel({ baseUrl: server.url, connections: 100, durationMs: options.durationMs, nextPath, timeoutS });
  const capacity = closed.status2xx / closed.durationS;
  const agent = openModelAgent();
  const open = (rate: number, durationMs: number) =>
    runOpenModel({ baseUrl: server.url, rate: Math.max(1, Math.round(rate)), durationMs, nextPath, timeoutMs: timeoutS * 1000, agent });
  // Unrecorded: opens the connections, so the half-capacity tail is not the cost of connecting.
  if (options.warmupMs > 0) await open(capacity / 2, options.warmupMs);
  const half = await open(capacity / 2, options.durationMs);
  await new Promise((r) => setTimeout(r, 1000));
  const rss = sampleRssPeak(() => server.rssMb());
  const overload = await open(capacity * 2, options.overloadMs);
  const rssPeakMb = rss.stop();
  agent.destroy();
  return { server: options.label, capacity, half, overload, ...(rssPeakMb === undefined ? {} : { rssPeakMb }) };
}

/**
 * The four overload targets, checked.
 *
 * @example
 * checks.push(...overloadTargets(report.overload));
 */
export function overloadTargets(result: OverloadResult | undefined): TargetCheck[] {
  if (result === undefined) return [{ target: 'overload at 2× capacity', wanted: 'run', measured: 'not measured', pass: null }];
  const o = result.overload;
  const label = `open model at 2× capacity (${formatRate(o.rate)}/s) for ${o.durationS} s`;
  const share = result.capacity === 0 ? 0 : o.successPerSec / result.capacity;
  const p99Ratio = result.half.success.p99 === 0 ? Infinity : o.success.p99 / result.half.success.p99;
  const otherRefusals = Object.entries(o.statusCodes)
    .filter(([code]) => !code.startsWith('2') && code !== '503')
    .reduce((n, [, count]) => n + count, 0);
  const badRefusals = otherRefusals + o.status503WithoutRetryAfter + o.timeouts + o.socketErrors;
  return [
    {
      target: `${label}: successes vs capacity`,
      wanted: '≥ 90%',
      measured: `${(share * 100).toFixed(0)}% (${formatRate(o.successPerSec)} vs ${formatRate(result.capacity)}/s; ${formatCount(o.late)} sent late, ${formatCount(o.notSent)} not sent)`,
      pass: share >= 0.9,
    },
    {
      target: `${label}: p99 of successes vs at half capacity`,
      wanted: '≤ 5×',
      measured: `${p99Ratio.toFixed(1)}× (${formatMs(o.success.p99)} vs ${formatMs(result.half.success.p99)})`,
      pass: p99Ratio <= 5,
    },
    {
      target: `${label}: every refusal a 503 with Retry-After`,
      wanted: '0 others',
      measured: `${formatCount(o.status503WithRetryAfter)} with, ${formatCount(o.status503WithoutRetryAfter)} without, ${formatCount(otherRefusals)} other statuses, ${formatCount(o.timeouts + o.socketErrors)} timeouts/socket errors`,
      pass: badRefusals === 0,
    },
    result.rssPeakMb === undefined
      ? { target: `${label}: RSS`, wanted: `< ${RSS_LIMIT_MB} MB`, measured: 'not measured', pass: null }
      : {
          target: `${label}: RSS`,
          wanted: `< ${RSS_LIMIT_MB} MB`,
          measured: `${result.rssPeakMb} MB`,
          pass: result.rssPeakMb < RSS_LIMIT_MB,
        },
  ];
}

/**
 * The overload section of the bench report.
 *
 * @example
 * out.push(overloadMarkdown(report.overload));
 */
export function overloadMarkdown(r: OverloadResult): string {
  const row = (name: string, o: OpenModelResult) => [
    name,
    formatRate(o.rate),
    formatCount(o.sent),
    formatCount(o.late),
    formatCount(o.notSent),
    formatRate(o.successPerSec),
    formatCount(o.status503WithRetryAfter),
    formatCount(o.status503WithoutRetryAfter),
    formatCount(o.timeouts + o.socketErrors),
    formatMs(o.success.p50),
    formatMs(o.success.p99),
    formatMs(o.success.p999),
  ];
  return [
    `## Overload: ${r.server}, product by id (open model)`,
    '',
    `Capacity (closed loop, c=100): ${formatRate(r.capacity)} successes/s. Latency from each request's intended send time.`,
    '',
    markdownTable(
      [
        'arrivals',
        'rate/s',
        'sent',
        'late',
        'not sent',
        '2xx/s',
        '503+RA',
        '503 no RA',
        'timeouts+errors',
        'p50 2xx',
        'p99 2xx',
        'p99.9 2xx',
      ],
      [row('½ capacity', r.half), row('2× capacity', r.overload)],
    ),
    '',
    `Peak RSS during the overload: ${r.rssPeakMb === undefined ? 'not measured' : `${r.rssPeakMb} MB`}.`,
  ].join('\n');
}
