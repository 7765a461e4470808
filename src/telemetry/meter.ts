/**
 * Starts OpenTelemetry metrics, or nothing: with OTEL_METRICS_EXPORTER=none
 * (the default) {@link startMetrics} returns undefined, no MeterProvider,
 * reader, timer or instrument exists, and the pools get no observer (one
 * `observer?.` branch per lease).
 *
 * With `otlp`, a MeterProvider of our own (not registered globally, like the
 * tracer) collects every OTEL_METRIC_EXPORT_INTERVAL ms and pushes cumulative
 * sums and histograms over OTLP/HTTP protobuf. What it measures is in
 * pool-meter.ts.
 *
 * The exporter is built here from `@opentelemetry/otlp-exporter-base` and
 * `@opentelemetry/otlp-transformer` 0.223.1, the two parts the official
 * `@opentelemetry/exporter-metrics-otlp-proto` is made of, composed the same
 * way. That package was never published at 0.223.1 (the release line of our
 * trace exporter), and its 0.223.0 pins core, resources and sdk-metrics
 * 2.12.0 exactly: a second copy of each beside our 2.12.1.
 *
 * @example
 * const metering = startMetrics(config.telemetry);
 * const pools = metering === undefined ? undefined : createPoolMeter(metering.meter);
 * // … on stop:
 * await metering?.shutdown();
 */
import { randomUUID } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { MetricsExporterMetricsHelper, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { parseHeaders, signalUrl, type TelemetrySettings } from './tracer.ts';

/** Where metrics go when neither metrics endpoint is set: the OpenTelemetry default. */
export const DEFAULT_METRICS_URL = 'http://localhost:4318/v1/metrics';

/** The longest one export may take, however long the interval (the SDK's default). */
const MAX_EXPORT_TIMEOUT_MS = 30_000;

/** A running meter; see {@link startMetrics}. */
export interface Metering {
  readonly meter: Meter;
  /** Collects and exports now. */
  flush(): Promise<void>;
  /** Collects and exports a last time, and stops. */
  shutdown(): Promise<void>;
}

/**
 * The meter, when OTEL_METRICS_EXPORTER is `otlp`; else undefined (metrics off).
 *
 * @example
 * const metering = startMetrics({ ...config.telemetry, metricsExporter: 'otlp', otlpEndpoint: 'http://127.0.0.1:4318' });
 */
export function startMetrics(settings: TelemetrySettings): Metering | undefined {
  if (settings.metricsExporter === 'none') return undefined;
  const intervalMs = settings.metricExportIntervalMs;
  const provider = new MeterProvider({
    // Every process its own instance: cumulative series of two cluster workers must not overwrite each other.
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, 'service.instance.id': randomUUID() }),
    readers: [
      new PeriodicExportingMetricReader({
        exporter: new OtlpProtoMetricExporter(metricsUrl(settings), parseHeaders(settings.otlpHeaders)),
        exportIntervalMillis: intervalMs,
        exportTimeoutMillis: Math.min(intervalMs, MAX_EXPORT_TIMEOUT_MS),
      }),
    ],
  });
  return {
    meter: provider.getMeter('holdfast'),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/**
 * OTEL_EXPORTER_OTLP_METRICS_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT
 * + /v1/metrics, else the default (as the spec says).
 *
 * @example
 * metricsUrl({ otlpEndpoint: 'http://collector:4318/', metricsEndpoint: undefined }); // 'http://collector:4318/v1/metrics'
 */
export function metricsUrl(settings: Pick<TelemetrySettings, 'otlpEndpoint' | 'metricsEndpoint'>): string {
  return signalUrl(settings.metricsEndpoint, settings.otlpEndpoint, 'metrics') ?? DEFAULT_METRICS_URL;
}

/** OTLP/HTTP protobuf, cumulative temporality: what `exporter-metrics-otlp-proto` builds, from the same parts. */
class OtlpProtoMetricExporter extends OTLPExporterBase<ResourceMetrics> implements PushMetricExporter {
  constructor(url: string, headers: Record<string, string>) {
    super(
      createOtlpHttpExportDelegate(
        convertLegacyHttpOptions({ url, headers }, 'METRICS', 'v1/metrics', { 'Content-Type': 'application/x-protobuf' }),
        ProtobufMetricsSerializer,
        'otlp_http_metric_exporter',
        MetricsExporterMetricsHelper,
        undefined,
      ),
    );
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }
}
