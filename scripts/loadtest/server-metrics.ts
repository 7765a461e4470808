/**
 * What the server said about one load level: `/metrics` scraped before,
 * during (once a second) and after, reduced to the few numbers that explain
 * a result. Counters and histograms are compared after minus before;
 * gauges (event-loop utilisation, RSS) keep the peak seen while under load,
 * because the value after the level is the value of an idle server.
 *
 * Each metric has a list of names, newest first: the metrics are still being
 * added and renamed, and a missing metric must leave a blank, not fail the run.
 */
import { firstPresent, histogramQuantileDelta, parsePrometheusText, sumOf, type PromScrape } from './prometheus.ts';

/**
 * Metric names the summary reads, each list in order of preference.
 *
 * @example
 * firstPresent(scrape, METRIC_NAMES.shed); // 'holdfast_pressure_shed_requests_total'
 */
export const METRIC_NAMES = Object.freeze({
  acquire: 'holdfast_db_pool_acquire_seconds',
  query: 'holdfast_db_query_seconds',
  eventLoopUtilization: ['holdfast_event_loop_utilization', 'holdfast_pressure_event_loop_utilization'],
  eventLoopLagP99: ['holdfast_nodejs_eventloop_lag_p99_seconds', 'holdfast_pressure_event_loop_delay_p99_seconds'],
  shed: ['holdfast_shed_total', 'holdfast_pressure_shed_requests_total'],
  rateLimited: ['holdfast_rate_limited_total', 'holdfast_rate_limit_limited_total', 'holdfast_rate_limit_rejected_total'],
  rss: ['holdfast_process_resident_memory_bytes', 'process_resident_memory_bytes'],
  poolRefused: ['holdfast_db_pool_timeouts_total', 'holdfast_db_pool_queue_full_total', 'holdfast_db_pool_exhausted_total'],
  poolMax: 'holdfast_db_pool_max',
});

/**
 * The server side of one level. A field is absent when its metric was.
 *
 * @example
 * const s: ServerSample = { scraped: true, acquireP99Ms: 12, eventLoopUtilization: 0.62, rssMb: 140 };
 */
export interface ServerSample {
  /** Whether `/metrics` answered before and after the level. */
  scraped: boolean;
  /** p99 of the time requests waited for a pool connection during the level. */
  acquireP99Ms?: number;
  /** p99 of statement time during the level. */
  queryP99Ms?: number;
  /** Peak event-loop utilisation (0..1) seen during the level. */
  eventLoopUtilization?: number;
  /** Peak event-loop delay p99 seen during the level (used when utilisation is not published). */
  eventLoopLagP99Ms?: number;
  /** Requests shed (503 OVERLOADED) during the level. */
  shed?: number;
  /** Requests refused by the rate limiter (429) during the level. */
  rateLimited?: number;
  /** Acquires refused by the pool (timeouts, queue full, nowait) during the level. */
  poolRefused?: number;
  /** Peak resident set size, in MB. */
  rssMb?: number;
  poolMax?: number;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

function delta(before: PromScrape | undefined, after: PromScrape, names: readonly string[]): number | undefined {
  let total: number | undefined;
  for (const name of names) {
    const end = sumOf(after, name);
    if (end === undefined) continue;
    total = (total ?? 0) + Math.max(0, end - (sumOf(before, name) ?? 0));
  }
  return total;
}

function peak(scrapes: readonly PromScrape[], names: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const scrape of scrapes) {
    const name = firstPresent(scrape, names);
    const v = name === undefined ? undefined : sumOf(scrape, name);
    if (v !== undefined && Number.isFinite(v)) best = Math.max(best ?? -Infinity, v);
  }
  return best;
}

/**
 * Reduces the scrapes of one level to a {@link ServerSample}. Pure.
 *
 * @example
 * summarizeServer({ before, after, during: [mid1, mid2] }).acquireP99Ms; // 12.4
 */
export function summarizeServer(scrapes: {
  before: PromScrape | undefined;
  after: PromScrape | undefined;
  during: readonly PromScrape[];
}): ServerSample {
  const { before, after, during } = scrapes;
  if (before === undefined || after === undefined) return { scraped: false };
  const sample: ServerSample = { scraped: true };
  const acquire = histogramQuantileDelta(before, after, METRIC_NAMES.acquire, 0.99);
  if (acquire !== undefined) sample.acquireP99Ms = round(acquire * 1000);
  const query = histogramQuantileDelta(before, after, METRIC_NAMES.query, 0.99);
  if (query !== undefined) sample.queryP99Ms = round(query * 1000);
  const all = [...during, after];
  const elu = peak(all, METRIC_NAMES.eventLoopUtilization);
  if (elu !== undefined) sample.eventLoopUtilization = round(elu);
  const lag = peak(all, METRIC_NAMES.eventLoopLagP99);
  if (lag !== undefined) sample.eventLoopLagP99Ms = round(lag * 1000);
  const shedName = firstPresent(after, METRIC_NAMES.shed);
  if (shedName !== undefined) sample.shed = delta(before, after, [shedName]) ?? 0;
  const limitedName = firstPresent(after, METRIC_NAMES.rateLimited);
  if (limitedName !== undefined) sample.rateLimited = delta(before, after, [limitedName]) ?? 0;
  const refused = delta(before, after, METRIC_NAMES.poolRefused);
  if (refused !== undefined) sample.poolRefused = refused;
  const rss = peak(all, METRIC_NAMES.rss);
  if (rss !== undefined) sample.rssMb = round(rss / 1_048_576, 1);
  const poolMax = sumOf(after, METRIC_NAMES.poolMax);
  if (poolMax !== undefined) sample.poolMax = poolMax;
  return sample;
}

/**
 * Fetches `/metrics`; undefined when it cannot (absent route, token, timeout)
 * so that a server without metrics still gets a client-side report.
 *
 * @example
 * const scrape = await scrapeMetrics('http://127.0.0.1:5001/metrics', undefined);
 */
export async function scrapeMetrics(url: string, token: string | undefined, timeoutMs = 2000): Promise<PromScrape | undefined> {
  try {
    const res = await fetch(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return res.ok ? parsePrometheusText(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Scrapes every `intervalMs` until stopped, keeping what answered.
 *
 * @example
 * const sampler = startSampling(() => scrapeMetrics(url, token), 1000);
 * // … run the level …
 * const during = await sampler.stop();
 */
export function startSampling(scrape: () => Promise<PromScrape | undefined>, intervalMs: number): { stop(): Promise<PromScrape[]> } {
  const kept: PromScrape[] = [];
  let inFlight: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    inFlight = inFlight.then(async () => {
      const s = await scrape();
      if (s !== undefined) kept.push(s);
    });
  }, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await inFlight;
      return kept;
    },
  };
}
