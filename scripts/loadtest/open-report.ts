/**
 * The open-model run (`npm run loadtest -- --rate N`) as a markdown table:
 * the schedule kept or not, the statuses, and the latency of successes from
 * their intended send time next to what a closed loop would have reported.
 */
import { formatCount, formatMs, formatRate, markdownTable } from './format.ts';
import type { OpenModelResult } from './open-model.ts';

/**
 * @example
 * print(openModelMarkdown(result, { rssMb: 140 }));
 */
export function openModelMarkdown(r: OpenModelResult, extra: { rssMb?: number | undefined } = {}): string {
  const other = Object.entries(r.statusCodes)
    .filter(([code]) => !code.startsWith('2') && code !== '503')
    .map(([code, n]) => `${code}×${n}`)
    .join(' ');
  const schedule = markdownTable(
    ['rate', 'duration', 'intended', 'sent', 'late (>10 ms)', 'not sent', 'max send delay'],
    [
      [
        `${formatRate(r.rate)}/s`,
        `${r.durationS} s`,
        formatCount(r.intended),
        formatCount(r.sent),
        formatCount(r.late),
        formatCount(r.notSent),
        formatMs(r.maxSendDelayMs),
      ],
    ],
  );
  const statuses = markdownTable(
    ['2xx', '2xx/s', '503 + Retry-After', '503 without', 'other', 'timeouts', 'socket errors', 'RSS'],
    [
      [
        formatCount(r.status2xx),
        formatRate(r.successPerSec),
        formatCount(r.status503WithRetryAfter),
        formatCount(r.status503WithoutRetryAfter),
        other === '' ? '0' : other,
        formatCount(r.timeouts),
        formatCount(r.socketErrors),
        extra.rssMb === undefined ? '' : `${Math.round(extra.rssMb)} MB`,
      ],
    ],
  );
  const latency = markdownTable(
    ['latency', 'p50', 'p99', 'p99.9', 'max'],
    [
      ['successes, from intended send', ...[r.success.p50, r.success.p99, r.success.p999, r.success.max].map(formatMs)],
      ['all answers, from intended send', ...[r.all.p50, r.all.p99, r.all.p999, r.all.max].map(formatMs)],
      ['all answers, from actual send (closed-loop view)', ...[r.service.p50, r.service.p99, r.service.p999, r.service.max].map(formatMs)],
    ],
  );
  return `${schedule}\n\n${statuses}\n\n${latency}\n`;
}
