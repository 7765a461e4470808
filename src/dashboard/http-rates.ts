/**
 * Requests, p99 and refusals per route over the last interval, read from the
 * Prometheus histogram the API scope already keeps
 * (`holdfast_http_request_duration_seconds{method,route,status_code}`).
 *
 * Reading it once per sampler tick costs nothing on the request path: no
 * second hook, no second histogram. Each read is diffed against the previous
 * one, bucket by bucket, so every number is "during the last interval".
 * Buckets are coarse (1, 2.5, 5, 10, 25 ms …), so p99 is interpolated within
 * a bucket and is an estimate, like Prometheus' own histogram_quantile.
 */
import type { Registry } from 'prom-client';
import { diffCounts, interpolatedQuantile } from '../stats/quantiles.ts';

export const HTTP_DURATION_METRIC = 'holdfast_http_request_duration_seconds';

/** Routes reported per interval at most, busiest first; the rest still count in the totals. */
const MAX_ROUTES = 12;

export interface RouteInterval {
  /** `GET /api/products/:id` */
  route: string;
  requests: number;
  p99Ms: number | undefined;
}

export interface HttpInterval {
  requests: number;
  p99Ms: number | undefined;
  routes: RouteInterval[];
  /** 5xx other than 503. */
  errors: number;
  /** 429 RATE_LIMITED. */
  limited: number;
  /** 503: pool, database, shedding. */
  unavailable: number;
  /** Requests observed since the process started. */
  totalRequests: number;
}

interface Series {
  route: string;
  status: number;
  /** Cumulative bucket counts, ordered by bound, +Inf last. */
  cumulative: number[];
}

interface Reading {
  boundsMs: number[];
  series: Map<string, Series>;
}

export interface HttpRates {
  /** Takes a reading and returns what happened since the previous one (all zero the first time). */
  read(): Promise<HttpInterval>;
  /** Forgets the previous reading, so the next `read` is a fresh baseline. */
  reset(): void;
}

/**
 * @example
 * const rates = createHttpRates(registry);
 * await rates.read();           // baseline
 * // … a second later:
 * const { requests, routes } = await rates.read();
 */
export function createHttpRates(registry: Registry, metricName = HTTP_DURATION_METRIC): HttpRates {
  let previous: Reading | undefined;

  return {
    read: async function readHttpRates(): Promise<HttpInterval> {
      const current = await takeReading(registry, metricName);
      const interval = compare(current, previous);
      previous = current;
      return interval;
    },
    reset: function resetHttpRates() {
      previous = undefined;
    },
  };
}

async function takeReading(registry: Registry, metricName: string): Promise<Reading> {
  const metric = registry.getSingleMetric(metricName);
  const series = new Map<string, Series>();
  if (metric === undefined) return { boundsMs: [], series };
  const { values } = await metric.get();
  const buckets = new Map<string, { route: string; status: number; byBound: Map<number, number> }>();
  const bounds = new Set<number>();
  for (const sample of values as { value: number; labels: Record<string, string | number | undefined>; metricName?: string }[]) {
    if (sample.metricName !== undefined && !sample.metricName.endsWith('_bucket')) continue;
    const { method, route, status_code: status, le } = sample.labels;
    if (le === undefined) continue;
    const key = `${method} ${route} ${status}`;
    let entry = buckets.get(key);
    if (entry === undefined) {
      entry = { route: `${method} ${route}`, status: Number(status), byBound: new Map() };
      buckets.set(key, entry);
    }
    const bound = le === '+Inf' ? Infinity : Number(le) * 1000;
    bounds.add(bound);
    entry.byBound.set(bound, sample.value);
  }
  const ordered = [...bounds].sort((a, b) => a - b);
  for (const [key, entry] of buckets) {
    series.set(key, { route: entry.route, status: entry.status, cumulative: ordered.map((b) => entry.byBound.get(b) ?? 0) });
  }
  return { boundsMs: ordered.filter(Number.isFinite), series };
}

function compare(current: Reading, previous: Reading | undefined): HttpInterval {
  const result: HttpInterval = { requests: 0, p99Ms: undefined, routes: [], errors: 0, limited: 0, unavailable: 0, totalRequests: 0 };
  const overall: number[] = [];
  const byRoute = new Map<string, number[]>();
  for (const [key, series] of current.series) {
    result.totalRequests += series.cumulative.at(-1) ?? 0;
    if (previous === undefined) continue;
    const delta = diffCounts(series.cumulative, previous.series.get(key)?.cumulative);
    const requests = delta.at(-1) ?? 0;
    if (requests === 0) continue;
    result.requests += requests;
    if (series.status === 429) result.limited += requests;
    else if (series.status === 503) result.unavailable += requests;
    else if (series.status >= 500) result.errors += requests;
    const perBucket = delta.map((c, i) => c - (i === 0 ? 0 : (delta[i - 1] ?? 0)));
    addInto(overall, perBucket);
    let route = byRoute.get(series.route);
    if (route === undefined) byRoute.set(series.route, (route = []));
    addInto(route, perBucket);
  }
  result.p99Ms = roundMs(interpolatedQuantile(current.boundsMs, overall, 0.99));
  result.routes = [...byRoute]
    .map(([route, counts]) => ({ route, requests: sum(counts), p99Ms: roundMs(interpolatedQuantile(current.boundsMs, counts, 0.99)) }))
    .sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
    .slice(0, MAX_ROUTES);
  return result;
}

function addInto(target: number[], counts: readonly number[]): void {
  counts.forEach((c, i) => {
    target[i] = (target[i] ?? 0) + c;
  });
}

function sum(counts: readonly number[]): number {
  let total = 0;
  for (const c of counts) total += c;
  return total;
}

function roundMs(ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : Math.round(ms * 100) / 100;
}
