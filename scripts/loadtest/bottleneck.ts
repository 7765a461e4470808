/**
 * Names what limited one load level, from the client's and the server's
 * numbers: the Bottleneck column of the report. Pure, so it is tested with
 * recorded samples; the rule is written out in docs/LOADTEST.md.
 *
 * The checks run in order and the first that holds wins:
 *  1. rate limit: at least 1% of requests were answered 429. A deliberate
 *     refusal is explicit, not inferred, so it outranks every symptom.
 *  2. memory: peak RSS at or above the limit (250 MB, the issue's target),
 *     or requests were shed while RSS was within 80% of it.
 *  3. event loop: utilisation ≥ 0.9 (or, where it is not published, the
 *     loop-delay p99 ≥ 100 ms), or requests were shed with RSS low. A
 *     saturated loop also inflates every time measured in-process, so the
 *     pool and query timings below cannot be trusted once it holds.
 *  4. pool wait: the pool refused acquires (timeouts, queue full), or the
 *     acquire-wait p99 is ≥ 5 ms and at least the query p99: requests spend
 *     longer queueing for a connection than using one.
 *  5. query time: query p99 ≥ 10 ms: the database answers slowly.
 *  6. none: nothing on the server is saturated; a closed-loop test is then
 *     limited by the load generator or the network.
 * Without any scrape of /metrics only rule 1 can be decided; otherwise the
 * answer is `unknown`.
 */
import type { ServerSample } from './server-metrics.ts';
import type { Bottleneck, ClientSample } from './types.ts';

/**
 * The rule's limits; override to tune for another machine.
 *
 * @example
 * classifyBottleneck(sample, { ...DEFAULT_THRESHOLDS, rssLimitMb: 512 });
 */
export interface BottleneckThresholds {
  rateLimitedShare: number;
  rssLimitMb: number;
  /** Share of rssLimitMb above which a shed counts as memory pressure. */
  shedRssShare: number;
  eventLoopUtilization: number;
  eventLoopLagP99Ms: number;
  poolWaitP99Ms: number;
  queryP99Ms: number;
}

/**
 * The limits the rule above states.
 *
 * @example
 * DEFAULT_THRESHOLDS.poolWaitP99Ms; // 5
 */
export const DEFAULT_THRESHOLDS: Readonly<BottleneckThresholds> = Object.freeze({
  rateLimitedShare: 0.01,
  rssLimitMb: 250,
  shedRssShare: 0.8,
  eventLoopUtilization: 0.9,
  eventLoopLagP99Ms: 100,
  poolWaitP99Ms: 5,
  queryP99Ms: 10,
});

/**
 * The verdict and the numbers behind it.
 *
 * @example
 * const c: Classification = { bottleneck: 'query time', reason: 'query p99 31.0 ms ≥ 10 ms' };
 */
export interface Classification {
  bottleneck: Bottleneck;
  reason: string;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const ms = (x: number): string => `${x.toFixed(1)} ms`;

/**
 * @example
 * classifyBottleneck({ client, server: { scraped: true, acquireP99Ms: 38, queryP99Ms: 2.1, eventLoopUtilization: 0.55 } });
 * // { bottleneck: 'pool wait', reason: 'acquire-wait p99 38.0 ms ≥ 5 ms and ≥ query p99 2.1 ms' }
 */
export function classifyBottleneck(
  samples: { client: Pick<ClientSample, 'requests' | 'status429'>; server: ServerSample },
  thresholds: BottleneckThresholds = DEFAULT_THRESHOLDS,
): Classification {
  const { client, server } = samples;
  const t = thresholds;
  const limited = Math.max(client.status429, server.rateLimited ?? 0);
  if (client.requests > 0 && limited / client.requests >= t.rateLimitedShare) {
    return {
      bottleneck: 'rate limit',
      reason: `${limited} of ${client.requests} requests (${pct(limited / client.requests)}) answered 429`,
    };
  }
  if (!server.scraped) return { bottleneck: 'unknown', reason: 'no /metrics scrape: nothing to attribute the result to' };

  const rss = server.rssMb;
  if (rss !== undefined && rss >= t.rssLimitMb) return { bottleneck: 'memory', reason: `peak RSS ${rss} MB ≥ ${t.rssLimitMb} MB` };
  const shed = server.shed ?? 0;
  if (shed > 0 && rss !== undefined && rss >= t.rssLimitMb * t.shedRssShare) {
    return { bottleneck: 'memory', reason: `${shed} requests shed with peak RSS ${rss} MB` };
  }

  const elu = server.eventLoopUtilization;
  if (elu !== undefined && elu >= t.eventLoopUtilization) {
    return { bottleneck: 'event loop', reason: `event-loop utilisation peaked at ${elu.toFixed(2)} ≥ ${t.eventLoopUtilization}` };
  }
  const lag = server.eventLoopLagP99Ms;
  if (elu === undefined && lag !== undefined && lag >= t.eventLoopLagP99Ms) {
    return { bottleneck: 'event loop', reason: `event-loop delay p99 peaked at ${ms(lag)} ≥ ${t.eventLoopLagP99Ms} ms` };
  }
  if (shed > 0) return { bottleneck: 'event loop', reason: `${shed} requests shed with RSS low: the loop-delay guard tripped` };

  const refused = server.poolRefused ?? 0;
  if (refused > 0) return { bottleneck: 'pool wait', reason: `the pool refused ${refused} acquires (timeout or queue full)` };
  const wait = server.acquireP99Ms;
  const query = server.queryP99Ms;
  if (wait !== undefined && wait >= t.poolWaitP99Ms && (query === undefined || wait >= query)) {
    return {
      bottleneck: 'pool wait',
      reason: `acquire-wait p99 ${ms(wait)} ≥ ${t.poolWaitP99Ms} ms${query === undefined ? '' : ` and ≥ query p99 ${ms(query)}`}`,
    };
  }
  if (query !== undefined && query >= t.queryP99Ms)
    return { bottleneck: 'query time', reason: `query p99 ${ms(query)} ≥ ${t.queryP99Ms} ms` };
  return { bottleneck: 'none', reason: 'no server resource saturated: the load generator or the network set the pace' };
}
