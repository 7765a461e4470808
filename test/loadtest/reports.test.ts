import { describe, expect, it } from 'vitest';
import { formatAb } from '../../scripts/loadtest/ab.ts';
import { reportHtml } from '../../scripts/loadtest/report-html.ts';
import { reportMarkdown } from '../../scripts/loadtest/report-markdown.ts';
import type { LoadtestReport } from '../../scripts/loadtest/report-types.ts';
import { escapeXml, lineChart } from '../../scripts/loadtest/svg-chart.ts';
import type { ClientSample, LevelResult } from '../../scripts/loadtest/types.ts';

const client = (users: number, rps: number): ClientSample => ({
  connections: users,
  durationS: 10,
  requests: rps * 10,
  responses: rps * 10,
  status2xx: rps * 10 - 5,
  status429: 0,
  status503: 5,
  statusOther: 0,
  timeouts: 0,
  socketErrors: 0,
  successRate: (rps * 10 - 5) / (rps * 10),
  reqPerSec: rps,
  latency: { p50: 8, p95: 20, p99: 31.5, max: 90 },
  successLatency: { p50: 8, p95: 20, p99: 31.5, max: 90 },
  retryAfterMissing: 0,
  statusCodes: { '200': rps * 10 - 5, '503': 5 },
});

const level = (users: number, rps: number): LevelResult => ({
  users,
  client: client(users, rps),
  server: { scraped: true, acquireP99Ms: 12, eventLoopUtilization: 0.71, rssMb: 150 },
  bottleneck: 'pool wait',
  reason: 'acquire-wait p99 12.0 ms ≥ 5 ms',
});

const report: LoadtestReport = {
  kind: 'holdfast-loadtest',
  version: 1,
  mode: 'levels',
  startedAt: '2026-11-26T12:00:00.000Z',
  finishedAt: '2026-11-26T12:01:00.000Z',
  target: { url: 'http://127.0.0.1:5001', spawned: true, database: 'embedded' },
  options: { levels: [50, 100], durationS: 10, mix: 'health=1, product=4', timeoutS: 10 },
  machine: { node: 'v20.20.2', platform: 'linux', cpus: 2 },
  levels: [level(50, 5000), level(100, 5200)],
};

describe('reports', () => {
  it('markdown has the original table shape with the measured values', () => {
    const md = reportMarkdown(report);
    expect(md).toContain('| Load Level | Success | req/s | p50 | p95 | p99 | Bottleneck |');
    expect(md).toMatch(/\| 100 users \| 99\.99% \| 5,200 \| 8\.00 ms \| 20\.0 ms \| 31\.5 ms \| pool wait \|/);
    expect(md).toContain('| 50 users | 12.0 ms | — | 0.71 |');
  });

  it('HTML is self-contained: three inline charts, no script, no external resource', () => {
    const html = reportHtml(report);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/i);
    // The only URLs are the SVG namespace and the target shown as text.
    const urls = [...html.matchAll(/https?:\/\/[^\s"<]+/g)].map((m) => m[0]);
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://127.0.0.1:5001']));
  });

  it('escapes text in charts', () => {
    expect(lineChart({ title: '<b>&', points: [{ label: '"1"', value: 1 }] })).toContain('&lt;b&gt;&amp;');
    expect(escapeXml(`'`)).toBe('&#39;');
  });

  it('prints ab-style counts', () => {
    const text = formatAb(
      { ...client(100, 100), responses: 1000, requests: 1000, status2xx: 990 },
      {
        url: 'http://127.0.0.1:5001/api/health',
        concurrency: 100,
        elapsedS: 0.5,
      },
    );
    expect(text).toContain('Concurrency Level:      100');
    expect(text).toContain('Complete requests:      1000');
    expect(text).toContain('Failed requests:        0');
    expect(text).toContain('Non-2xx responses:      10');
    expect(text).toContain('Requests per second:    2000.00 [#/sec] (mean)');
  });
});
