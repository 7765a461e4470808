/**
 * The registry's metrics in OpenMetrics text, with exemplars, for scrapers
 * that ask for it (`Accept: application/openmetrics-text`).
 *
 * Why not prom-client's own OpenMetrics mode: a registry has one content
 * type, and its OpenMetrics `metrics()` renames every counter in place
 * (drops `_total`), so the same registry would then serve Prometheus text
 * with counters missing their suffix. This serializer reads each metric's
 * `get()` and writes OpenMetrics without touching the registry, so the one
 * registry serves both formats and Prometheus text stays the default.
 *
 * @example
 * reply.header('Content-Type', OPENMETRICS_CONTENT_TYPE).send(await openMetricsText(registry));
 */
import type { Registry } from 'prom-client';

export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

type Labels = Record<string, string | number | undefined>;
interface Value {
  value: number;
  labels?: Labels;
  metricName?: string;
  exemplar?: { labelSet: Labels; value: number; timestamp: number } | null;
}

interface Family {
  name: string;
  help: string;
  type: string;
  values: Value[];
}

/** True when `accept` prefers OpenMetrics (Prometheus sends it first when it can read exemplars). */
export function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}

/** Every metric of `registry` in OpenMetrics 1.0 text, ending `# EOF`. */
export async function openMetricsText(registry: Registry): Promise<string> {
  const families = await Promise.all(registry.getMetricsAsArray().map((metric) => (metric as unknown as { get(): Promise<Family> }).get()));
  const lines: string[] = [];
  for (const family of families) {
    const counter = family.type === 'counter';
    const name = counter ? family.name.replace(/_total$/, '') : family.name;
    lines.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`);
    for (const v of family.values) {
      const sample = v.metricName ?? (counter ? `${name}_total` : name);
      let line = `${sample}${formatLabels(v.labels)} ${formatNumber(v.value)}`;
      if (v.exemplar) line += ` # ${formatLabels(v.exemplar.labelSet) || '{}'} ${formatNumber(v.exemplar.value)} ${v.exemplar.timestamp}`;
      lines.push(line);
    }
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const parts = Object.entries(labels)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}="${escapeLabel(String(value))}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
