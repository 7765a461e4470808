import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { startOtlpReceiver } from '../telemetry/otlp-receiver.ts';
import { prometheusFor, startPrometheus, type RunningPrometheus } from '../helpers/prometheus.ts';

const havePrometheus = prometheusFor('the real-Prometheus scrape test');
const TRACE = '0af7651916cd43dd8448eb211c80319c';

type Vector = { metric: Record<string, string>; value: [number, string] }[];
type Exemplars = { seriesLabels: Record<string, string>; exemplars: { labels: Record<string, string>; value: string }[] }[];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const done of cleanup.splice(0).reverse()) await done();
});

/** Polls `read` (Prometheus scrapes and evaluates every second) until it returns something, for up to 30 s. */
async function eventually<T>(read: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = await read();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('Prometheus never showed it within 30 s');
}

describe.skipIf(!havePrometheus)('a real Prometheus scraping Holdfast', () => {
  it('stores a pool gauge, evaluates a recording rule and keeps the exemplar of a sampled request', async () => {
    // Exemplars name traces, so tracing is on (exported to a local receiver); the incoming sampled traceparent is continued.
    const receiver = await startOtlpReceiver();
    cleanup.push(() => receiver.close());
    const app: TestApp = await startTestApp({ env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } });
    cleanup.push(() => app.close());
    const res = await fetch(`${app.baseUrl}/api/products/1`, { headers: { traceparent: `00-${TRACE}-b7ad6b7169203331-01` } });
    expect([200, 404]).toContain(res.status); // an empty catalogue: the request is what counts
    const prom: RunningPrometheus = await startPrometheus(new URL(app.baseUrl).host);
    cleanup.push(() => prom.stop());

    const max = await eventually(async () => (await prom.api<{ result: Vector }>('query?query=holdfast_db_pool_max')).result[0]);
    expect(max.metric.job).toBe('holdfast');
    expect(Number(max.value[1])).toBe(app.config.pool.max);

    const utilization = await eventually(
      async () => (await prom.api<{ result: Vector }>('query?query=instance:holdfast_db_pool_utilization:ratio')).result[0],
    );
    expect(Number.isFinite(Number(utilization.value[1]))).toBe(true);

    const now = Date.now() / 1000;
    const query = encodeURIComponent('holdfast_http_request_duration_seconds_bucket');
    const exemplar = await eventually(async () => {
      const series = await prom.api<Exemplars>(`query_exemplars?query=${query}&start=${now - 600}&end=${now + 600}`);
      return series
        .flatMap((s) => s.exemplars.map((e) => ({ series: s.seriesLabels, labels: e.labels })))
        .find((e) => e.labels.trace_id === TRACE);
    });
    expect(exemplar.series.route).toBe('/api/products/:id');
  });
});
