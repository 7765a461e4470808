import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classifyBottleneck, DEFAULT_THRESHOLDS } from '../../scripts/loadtest/bottleneck.ts';
import { parsePrometheusText, type PromScrape } from '../../scripts/loadtest/prometheus.ts';
import { summarizeServer, type ServerSample } from '../../scripts/loadtest/server-metrics.ts';

/**
 * The fixtures are real /metrics scrapes taken around a 3 s level on the dev
 * machine: `rate-limited` with RATE_LIMIT_MAX=2000 at 50 users, `pool-bound`
 * with DB_POOL_MAX=5 at 100 users (product and orders mix).
 */
function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}.prom`, import.meta.url), 'utf8');
}

function recorded(name: string, edit: (text: string) => string = (t) => t): { before: PromScrape; after: PromScrape } {
  return { before: parsePrometheusText(fixture(`${name}.before`)), after: parsePrometheusText(edit(fixture(`${name}.after`))) };
}

const setGauge = (name: string, value: number) => (text: string) => text.replace(new RegExp(`^${name} .*$`, 'm'), `${name} ${value}`);

describe('classifyBottleneck on recorded scrapes', () => {
  it('calls a level rate-limited when 429s dominate, from the client count or the server counter', () => {
    const { before, after } = recorded('rate-limited');
    const server = summarizeServer({ before, after, during: [] });
    expect(server.rateLimited).toBeGreaterThan(39_000);
    const client = { requests: 41_418, status429: 39_319 };
    expect(classifyBottleneck({ client, server }).bottleneck).toBe('rate limit');
    // The server's counter alone is enough (e.g. the client saw 429s as another status).
    expect(classifyBottleneck({ client: { requests: 41_418, status429: 0 }, server }).bottleneck).toBe('rate limit');
  });

  it('calls a saturated event loop before pool wait: the loop inflates every in-process timing', () => {
    const { before, after } = recorded('pool-bound');
    const server = summarizeServer({ before, after, during: [] });
    expect(server.eventLoopUtilization).toBe(0.99);
    expect(server.acquireP99Ms).toBeGreaterThan(5);
    const verdict = classifyBottleneck({ client: { requests: 9244, status429: 0 }, server });
    expect(verdict.bottleneck).toBe('event loop');
    expect(verdict.reason).toContain('0.99');
  });

  it('calls pool wait when the loop has room and requests queue for connections', () => {
    const { before, after } = recorded('pool-bound', setGauge('holdfast_pressure_event_loop_utilization', 0.62));
    const server = summarizeServer({ before, after, during: [] });
    const verdict = classifyBottleneck({ client: { requests: 9244, status429: 0 }, server });
    expect(verdict).toEqual({ bottleneck: 'pool wait', reason: expect.stringMatching(/^acquire-wait p99 [\d.]+ ms ≥ 5 ms$/) });
  });

  it('takes the peak utilisation seen during the level, not the idle value after it', () => {
    const { before, after } = recorded('pool-bound', setGauge('holdfast_pressure_event_loop_utilization', 0.05));
    const mid = parsePrometheusText('holdfast_pressure_event_loop_utilization 0.97\n');
    const server = summarizeServer({ before, after, during: [mid] });
    expect(server.eventLoopUtilization).toBe(0.97);
    expect(classifyBottleneck({ client: { requests: 1, status429: 0 }, server }).bottleneck).toBe('event loop');
  });

  it('calls memory when RSS passes the limit', () => {
    const { before, after } = recorded('pool-bound', setGauge('holdfast_process_resident_memory_bytes', 300 * 1_048_576));
    const server = summarizeServer({ before, after, during: [] });
    expect(server.rssMb).toBe(300);
    expect(classifyBottleneck({ client: { requests: 1, status429: 0 }, server }).bottleneck).toBe('memory');
  });
});

describe('classifyBottleneck rule order and limits', () => {
  const client = { requests: 10_000, status429: 0 };
  const quiet: ServerSample = {
    scraped: true,
    acquireP99Ms: 0.1,
    eventLoopUtilization: 0.4,
    rssMb: 120,
    shed: 0,
    rateLimited: 0,
    poolRefused: 0,
  };

  it('says none when nothing on the server is saturated', () => {
    expect(classifyBottleneck({ client, server: quiet }).bottleneck).toBe('none');
  });

  it('says unknown without a scrape, unless 429s decide it', () => {
    expect(classifyBottleneck({ client, server: { scraped: false } }).bottleneck).toBe('unknown');
    expect(classifyBottleneck({ client: { requests: 100, status429: 1 }, server: { scraped: false } }).bottleneck).toBe('rate limit');
    expect(classifyBottleneck({ client: { requests: 1000, status429: 9 }, server: quiet }).bottleneck).toBe('none');
  });

  it('prefers query time when statements take longer than the wait for a connection', () => {
    expect(classifyBottleneck({ client, server: { ...quiet, acquireP99Ms: 8, queryP99Ms: 30 } })).toEqual({
      bottleneck: 'query time',
      reason: 'query p99 30.0 ms ≥ 10 ms',
    });
    expect(classifyBottleneck({ client, server: { ...quiet, acquireP99Ms: 40, queryP99Ms: 30 } }).bottleneck).toBe('pool wait');
    expect(classifyBottleneck({ client, server: { ...quiet, queryP99Ms: 9.9 } }).bottleneck).toBe('none');
  });

  it('calls pool wait on any refused acquire', () => {
    expect(classifyBottleneck({ client, server: { ...quiet, poolRefused: 3 } }).bottleneck).toBe('pool wait');
  });

  it('attributes shedding to memory or the event loop by RSS', () => {
    expect(classifyBottleneck({ client, server: { ...quiet, shed: 5, rssMb: 210 } }).bottleneck).toBe('memory');
    expect(classifyBottleneck({ client, server: { ...quiet, shed: 5, rssMb: 120 } }).bottleneck).toBe('event loop');
  });

  it('falls back to loop delay where utilisation is not published', () => {
    const { eventLoopUtilization: _, ...noElu } = quiet;
    expect(classifyBottleneck({ client, server: { ...noElu, eventLoopLagP99Ms: 150 } }).bottleneck).toBe('event loop');
    expect(classifyBottleneck({ client, server: { ...noElu, eventLoopLagP99Ms: 20 } }).bottleneck).toBe('none');
  });

  it('takes other thresholds', () => {
    expect(classifyBottleneck({ client, server: { ...quiet, rssMb: 300 } }, { ...DEFAULT_THRESHOLDS, rssLimitMb: 512 }).bottleneck).toBe(
      'none',
    );
  });
});
