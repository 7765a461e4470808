/**
 * Starting metrics (src/telemetry/meter.ts): nothing at all unless
 * OTEL_METRICS_EXPORTER=otlp, and the metrics URL resolved as the
 * OpenTelemetry spec says. What is exported is in pool-meter.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { DEFAULT_METRICS_URL, metricsUrl, startMetrics } from '../../src/telemetry/meter.ts';

describe('startMetrics', () => {
  it('starts nothing by default, even with an OTLP endpoint set for traces', () => {
    expect(startMetrics(loadConfig({}).telemetry)).toBeUndefined();
    expect(startMetrics(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).telemetry)).toBeUndefined();
    expect(startMetrics(loadConfig({ OTEL_METRICS_EXPORTER: 'none' }).telemetry)).toBeUndefined();
  });

  it('starts a meter with otlp, and stops it', async () => {
    // Port 9 (discard): nothing is exported before shutdown's last export, which fails quietly.
    const metering = startMetrics(
      loadConfig({ OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://127.0.0.1:9/v1/metrics' }).telemetry,
    );
    expect(metering?.meter.createCounter('probe')).toBeDefined();
    await metering?.shutdown();
  });
});

describe('metricsUrl', () => {
  it('takes the metrics endpoint as is, else the base endpoint + /v1/metrics, else the default', () => {
    expect(metricsUrl({ metricsEndpoint: 'http://c:4318/custom', otlpEndpoint: 'http://other:4318' })).toBe('http://c:4318/custom');
    expect(metricsUrl({ metricsEndpoint: undefined, otlpEndpoint: 'http://c:4318' })).toBe('http://c:4318/v1/metrics');
    expect(metricsUrl({ metricsEndpoint: undefined, otlpEndpoint: 'http://c:4318/base/' })).toBe('http://c:4318/base/v1/metrics');
    expect(metricsUrl({ metricsEndpoint: undefined, otlpEndpoint: undefined })).toBe(DEFAULT_METRICS_URL);
    expect(DEFAULT_METRICS_URL).toBe('http://localhost:4318/v1/metrics');
  });
});
