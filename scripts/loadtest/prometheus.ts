/**
 * Reads the Prometheus text exposition format, just enough for the load test
 * to attribute its results: samples by name, counter deltas, and quantiles
 * of histogram deltas (the `histogram_quantile(rate(...))` a dashboard would
 * compute, over exactly one load level).
 *
 * Written here rather than taken from a package because it is 60 lines and a
 * parser must not fail the run: unknown or malformed lines are skipped.
 */

/** @example const s: PromSample = { name: 'holdfast_shed_total', labels: {}, value: 3 }; */
export interface PromSample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * Samples by metric name (a histogram's `_bucket`, `_sum` and `_count` are separate names).
 *
 * @example
 * const scrape: PromScrape = parsePrometheusText(text);
 * scrape.get('holdfast_db_pool_acquire_seconds_bucket');
 */
export type PromScrape = ReadonlyMap<string, readonly PromSample[]>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * @example
 * const scrape = parsePrometheusText('holdfast_shed_total 3\n');
 * scrape.get('holdfast_shed_total'); // [{ name: 'holdfast_shed_total', labels: {}, value: 3 }]
 */
export function parsePrometheusText(text: string): PromScrape {
  const out = new Map<string, PromSample[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const value = parseValue(valueText);
    if (value === undefined) continue;
    const labels: Record<string, string> = {};
    for (const m of labelText.matchAll(LABEL)) labels[m[1]!] = unescape(m[2]!);
    const list = out.get(name) ?? [];
    list.push({ name, labels, value });
    out.set(name, list);
  }
  return out;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const n = Number(text);
  return Number.isNaN(n) && text !== 'NaN' ? undefined : n;
}

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * Sum of every series of `name` (over all labels), or undefined when the metric is absent.
 *
 * @example
 * sumOf(scrape, 'holdfast_db_pool_timeouts_total'); // 0
 */
export function sumOf(scrape: PromScrape | undefined, name: string): number | undefined {
  const samples = scrape?.get(name);
  if (samples === undefined || samples.length === 0) return undefined;
  return samples.reduce((sum, s) => sum + s.value, 0);
}

/**
 * The first of `names` present in `scrape`, for metrics whose name differs between versions.
 *
 * @example
 * firstPresent(scrape, ['holdfast_shed_total', 'holdfast_pressure_shed_requests_total']);
 */
export function firstPresent(scrape: PromScrape | undefined, names: readonly string[]): string | undefined {
  return names.find((n) => (scrape?.get(n)?.length ?? 0) > 0);
}

/** Cumulative bucket counts of histogram `name`, summed over its other labels, by upper bound. */
function buckets(scrape: PromScrape | undefined, name: string): Map<number, number> | undefined {
  const samples = scrape?.get(`${name}_bucket`);
  if (samples === undefined || samples.length === 0) return undefined;
  const byBound = new Map<number, number>();
  for (const s of samples) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (Number.isNaN(le)) continue;
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  return byBound;
}

/**
 * Quantile `q` of the observations histogram `name` gained between two
 * scrapes, by Prometheus' `histogram_quantile` rule (linear within the
 * bucket; the highest finite bound when the rank falls in `+Inf`). Undefined
 * when the histogram is absent or saw nothing new.
 *
 * @example
 * histogramQuantileDelta(before, after, 'holdfast_db_pool_acquire_seconds', 0.99); // 0.012 (seconds)
 */
export function histogramQuantileDelta(
  before: PromScrape | undefined,
  after: PromScrape | undefined,
  name: string,
  q: number,
): number | undefined {
  const end = buckets(after, name);
  if (end === undefined) return undefined;
  const start = buckets(before, name) ?? new Map<number, number>();
  const bounds = [...end.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((b) => Math.max(0, (end.get(b) ?? 0) - (start.get(b) ?? 0)));
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (cumulative[i]! < rank) continue;
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const inBucket = cumulative[i]! - below;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return bounds.filter((b) => b !== Infinity).at(-1);
}
