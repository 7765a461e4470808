/**
 * Starts OpenTelemetry tracing, or nothing: with neither
 * OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set,
 * {@link startTracing} returns undefined, no SDK is loaded into the request
 * path, no Context carries a `trace`, and every span site below is one
 * `ctx.trace === undefined` branch.
 *
 * The provider is ours, not registered globally: spans are parented
 * explicitly from `Context.trace` (src/context/context.ts says why there is
 * no AsyncLocalStorage), so no global context manager is needed. Spans are
 * batched and exported over OTLP/HTTP protobuf.
 *
 * @example
 * const tracing = startTracing(config.telemetry);
 * // … on stop:
 * await tracing?.shutdown();
 */
import {
  SpanKind,
  TraceFlags,
  ROOT_CONTEXT,
  isSpanContextValid,
  trace,
  type Context as OtelContext,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  RandomIdGenerator,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type IdGenerator,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Config } from '../config/index.ts';
import type { TraceRef } from '../context/context.ts';

export type TelemetrySettings = Config['telemetry'];

/** A running tracer; see {@link startTracing}. */
export interface Tracing {
  readonly tracer: Tracer;
  /**
   * A request's root position under `parent` (an extracted traceparent, or
   * ROOT_CONTEXT). The configured sampler decides first, on the trace id
   * the span will have: an unsampled request gets its ids and nothing else
   * (no span object, name or attributes: most requests, at a low ratio);
   * a sampled one gets the span `open` starts.
   */
  root(parent: OtelContext, open: () => Span): { span: Span | undefined; ref: TraceRef };
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/**
 * The tracer, when an OTLP endpoint is configured; else undefined (tracing off).
 * `exporter` replaces the OTLP exporter (the bench's local sink).
 *
 * @example
 * const tracing = startTracing({ ...config.telemetry, otlpEndpoint: 'http://127.0.0.1:4318' });
 */
export function startTracing(settings: TelemetrySettings, options: { exporter?: SpanExporter } = {}): Tracing | undefined {
  const url = tracesUrl(settings);
  if (url === undefined && options.exporter === undefined) return undefined;
  const exporter = options.exporter ?? new OTLPTraceExporter({ url, headers: parseHeaders(settings.otlpHeaders) });
  const sampler = samplerOf(settings.sampler, settings.samplerArg);
  const ids = new PinnedIds();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
    sampler,
    idGenerator: ids,
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('holdfast');
  return {
    tracer,
    root(parent, open) {
      const remote = trace.getSpanContext(parent);
      const valid = remote !== undefined && isSpanContextValid(remote);
      const traceId = valid ? remote.traceId : ids.generateTraceId();
      // The same sampler the SDK will ask, on the same trace id: every built-in one decides alike both times.
      if (sampler.shouldSample(parent, traceId, '', SpanKind.SERVER, {}, []).decision === SamplingDecision.NOT_RECORD) {
        return { span: undefined, ref: { traceId, spanId: ids.generateSpanId(), sampled: false } };
      }
      if (!valid) ids.pin(traceId);
      try {
        const span = open();
        return { span, ref: refOf(span) };
      } finally {
        ids.pin(undefined);
      }
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces (as the spec says). */
export function tracesUrl(settings: Pick<TelemetrySettings, 'otlpEndpoint' | 'tracesEndpoint'>): string | undefined {
  return signalUrl(settings.tracesEndpoint, settings.otlpEndpoint, 'traces');
}

/**
 * One signal's OTLP/HTTP URL, as the spec says: its own endpoint as is, else
 * the base endpoint + `/v1/<signal>`; undefined when neither is set.
 *
 * @example
 * signalUrl(undefined, 'http://collector:4318/', 'metrics'); // 'http://collector:4318/v1/metrics'
 */
export function signalUrl(own: string | undefined, base: string | undefined, signal: 'traces' | 'metrics'): string | undefined {
  if (own !== undefined) return own;
  if (base === undefined) return undefined;
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/** `k=v,k2=v2` with URL-encoded values (OTEL_EXPORTER_OTLP_HEADERS). */
export function parseHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim().toLowerCase()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/**
 * The SDK's random ids, except that the next root trace id can be pinned:
 * `root` samples on a trace id before the span exists, and the span must
 * then carry that id (a ratio sampler's verdict belongs to the id).
 */
class PinnedIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  #next: string | undefined;

  pin(traceId: string | undefined): void {
    this.#next = traceId;
  }
  generateTraceId(): string {
    const pinned = this.#next;
    if (pinned === undefined) return this.#random.generateTraceId();
    this.#next = undefined;
    return pinned;
  }
  generateSpanId(): string {
    return this.#random.generateSpanId();
  }
}

function samplerOf(name: TelemetrySettings['sampler'], ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The TraceRef of a span (what a Context carries). */
export function refOf(span: Span): TraceRef {
  const sc = span.spanContext();
  return { traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) !== 0 };
}

/** An OpenTelemetry parent context for spans under `ref`. */
export function parentOf(ref: TraceRef): OtelContext {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ref.traceId,
    spanId: ref.spanId,
    traceFlags: ref.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: false,
  });
}

/** Epoch milliseconds of a `performance.now()` reading (a span's explicit start or end). */
export function epochMs(perfNow: number): number {
  return performance.timeOrigin + perfNow;
}

export { SpanKind };
