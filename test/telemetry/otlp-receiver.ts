/**
 * A test OTLP/HTTP receiver on a free port, for traces (/v1/traces) and
 * metrics (/v1/metrics): decodes each export with the official
 * OpenTelemetry protobuf definitions (opentelemetry-proto v1.9.0, vendored
 * under ./proto with their licence) through protobufjs, and keeps the spans
 * and the metric points, flattened, for assertions.
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * // OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url
 * receiver.spans.find((s) => s.name === 'GET /api/products/:id');
 * await receiver.waitFor(() => receiver.points.some((p) => p.name === 'db.client.connection.count'), 5000);
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind name, e.g. SPAN_KIND_SERVER. */
  kind: string;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  /** STATUS_CODE_UNSET / _OK / _ERROR. */
  status: string;
  startNs: bigint;
  endNs: bigint;
  serviceName: string;
}

/** One data point of an exported metric, with its metric's name, unit and kind. */
export interface ReceivedPoint {
  /** The metrics export that carried it, counting from 1. */
  exportNo: number;
  name: string;
  unit: string;
  description: string;
  type: 'sum' | 'gauge' | 'histogram' | 'exponentialHistogram' | 'summary';
  /** Sums: whether the sum only grows (a counter) or not (an up-down counter). */
  monotonic: boolean;
  /** AGGREGATION_TEMPORALITY_CUMULATIVE / _DELTA for sums and histograms, '' for gauges. */
  temporality: string;
  attributes: Record<string, string | number | boolean>;
  /** A sum's or gauge's value; a histogram's sum. */
  value: number;
  /** Histograms: how many values were recorded, the bucket bounds and the count in each bucket. */
  count: number;
  explicitBounds: number[];
  bucketCounts: number[];
  serviceName: string;
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  /** Base URL, as OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** Every metric point received, in order. */
  points: ReceivedPoint[];
  /** Metrics exports received so far. */
  readonly metricExports: number;
  /** Content types of the exports received. */
  contentTypes: string[];
  /** Resolves once `condition` holds, checked now and after each export; rejects after `timeoutMs`. */
  waitFor(condition: () => boolean, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const PROTO_ROOT = fileURLToPath(new URL('./proto/', import.meta.url));

function loadRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith(PROTO_ROOT) ? target : PROTO_ROOT + target);
  root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto');
  root.loadSync('opentelemetry/proto/collector/metrics/v1/metrics_service.proto');
  return root;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type Decoded = {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: string;
        startTimeUnixNano: string;
        endTimeUnixNano: string;
        attributes?: { key: string; value: AnyValue }[];
        links?: { traceId: string; spanId: string }[];
        status?: { code?: string };
      }[];
    }[];
  }[];
};

type DecodedPoint = {
  attributes?: { key: string; value: AnyValue }[];
  asDouble?: number;
  asInt?: string;
  count?: string;
  sum?: number;
  explicitBounds?: number[];
  bucketCounts?: string[];
};
type DecodedMetrics = {
  resourceMetrics?: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeMetrics?: {
      metrics?: ({ name: string; unit?: string; description?: string } & Partial<
        Record<ReceivedPoint['type'], { dataPoints?: DecodedPoint[]; aggregationTemporality?: string; isMonotonic?: boolean }>
      >)[];
    }[];
  }[];
};

const POINT_TYPES: readonly ReceivedPoint['type'][] = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'];

/** Flattens one decoded metrics export into points. */
function pointsOf(decoded: DecodedMetrics, exportNo: number): ReceivedPoint[] {
  const points: ReceivedPoint[] = [];
  for (const rm of decoded.resourceMetrics ?? []) {
    const resource = attributesOf(rm.resource?.attributes);
    for (const sm of rm.scopeMetrics ?? [])
      for (const m of sm.metrics ?? []) {
        const type = POINT_TYPES.find((t) => m[t] !== undefined);
        if (type === undefined) continue;
        const data = m[type]!;
        for (const p of data.dataPoints ?? [])
          points.push({
            exportNo,
            name: m.name,
            unit: m.unit ?? '',
            description: m.description ?? '',
            type,
            monotonic: data.isMonotonic === true,
            temporality: data.aggregationTemporality ?? '',
            attributes: attributesOf(p.attributes),
            value: p.asDouble ?? (p.asInt !== undefined ? Number(p.asInt) : (p.sum ?? 0)),
            count: Number(p.count ?? 0),
            explicitBounds: p.explicitBounds ?? [],
            bucketCounts: (p.bucketCounts ?? []).map(Number),
            serviceName: String(resource['service.name'] ?? ''),
            resource,
          });
      }
  }
  return points;
}

function valueOf(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue ?? '';
}

function attributesOf(list: { key: string; value: AnyValue }[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));
}

const DECODE_OPTIONS = { longs: String, enums: String, bytes: String, defaults: false } as const;

/** Starts the receiver on 127.0.0.1, port 0. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const root = loadRoot();
  const traceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
  const metricsRequest = root.lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest');
  const spans: ReceivedSpan[] = [];
  const points: ReceivedPoint[] = [];
  const contentTypes: string[] = [];
  const waiters = new Set<() => void>();
  let metricExports = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      contentTypes.push(String(req.headers['content-type']));
      const body = Buffer.concat(chunks);
      if (req.url === '/v1/metrics') {
        metricExports++;
        points.push(...pointsOf(metricsRequest.toObject(metricsRequest.decode(body), DECODE_OPTIONS), metricExports));
      } else {
        spans.push(...spansOf(traceRequest.toObject(traceRequest.decode(body), DECODE_OPTIONS)));
      }
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      for (const check of waiters) check();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    points,
    get metricExports() {
      return metricExports;
    },
    contentTypes,
    waitFor: (condition, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const done = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const check = () => {
          if (condition()) done(resolve);
        };
        const timer = setTimeout(() => done(() => reject(new Error(`no matching OTLP export within ${timeoutMs} ms`))), timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function spansOf(decoded: Decoded): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of decoded.resourceSpans ?? []) {
    const serviceName = String(attributesOf(rs.resource?.attributes)['service.name'] ?? '');
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: s.parentSpanId === undefined ? '' : hex(s.parentSpanId),
          name: s.name,
          kind: s.kind,
          attributes: attributesOf(s.attributes),
          links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) })),
          status: s.status?.code ?? 'STATUS_CODE_UNSET',
          startNs: BigInt(s.startTimeUnixNano),
          endNs: BigInt(s.endTimeUnixNano),
          serviceName,
        });
  }
  return spans;
}

/** protobufjs renders bytes as base64 with `bytes: String`. */
function hex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

/** A new random trace id, for a request to send in its own `traceparent` and find among the received spans. */
export function freshTraceId(): string {
  return crypto.randomUUID().replaceAll('-', '');
}

/** A W3C `traceparent` for `traceId` with a fixed parent span id, sampled or not. */
export function traceparent(traceId: string, sampled = true): string {
  return `00-${traceId}-00f067aa0ba902b7-${sampled ? '01' : '00'}`;
}

/** The spans whose parent is `parent`, in its trace. */
export function childrenOf(spans: ReceivedSpan[], parent: ReceivedSpan): ReceivedSpan[] {
  return spans.filter((s) => s.parentSpanId === parent.spanId && s.traceId === parent.traceId);
}
