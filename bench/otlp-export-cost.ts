/**
 * What exporting spans costs this process: the CPU time of each OTLP/HTTP
 * protobuf export (serialising and sending) of `--spans` spans shaped like
 * a product read's (a server span and a statement span), to the bench's
 * local sink, which throws them away. The sink runs in this process, so its
 * reading of each export is counted too: an upper bound. The first export of a process also
 * pays for the code it runs the first time. The figures are in
 * docs/BENCHMARKS.md ("Tracing cost"); not a timed test.
 *
 * @example
 * npx tsx bench/otlp-export-cost.ts --spans 400 --exports 10
 */
import { parseArgs } from 'node:util';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startOtlpSink } from './otlp-sink.ts';

const { values } = parseArgs({
  options: { spans: { type: 'string', default: '400' }, exports: { type: 'string', default: '10' } },
});
const spans = Number(values.spans);
const exports = Number(values.exports);

const sink = await startOtlpSink();
const exporter = new OTLPTraceExporter({ url: `${sink.url}/v1/traces` });
// Big enough that only forceFlush exports: one export per round, of exactly the round's spans.
const processor = new BatchSpanProcessor(exporter, {
  maxQueueSize: spans * 2,
  maxExportBatchSize: spans * 2,
  scheduledDelayMillis: 3_600_000,
});
const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'holdfast' }), spanProcessors: [processor] });
const tracer = provider.getTracer('holdfast');

const perExportMs: number[] = [];
for (let round = 0; round < exports; round++) {
  for (let i = 0; i < spans / 2; i++) {
    const server = tracer.startSpan('GET /api/products/:id', {
      attributes: { 'http.request.method': 'GET', 'http.route': '/api/products/:id', 'url.scheme': 'http', 'holdfast.request_id': `r${i}` },
    });
    tracer
      .startSpan('products-get-many', {
        attributes: {
          'db.system.name': 'postgresql',
          'db.operation.name': 'SELECT',
          'db.query.text': 'select id, sku, name from products where id = any(?::bigint[])',
          'db.response.returned_rows': 25,
        },
      })
      .end();
    server.end();
  }
  const before = process.cpuUsage();
  await provider.forceFlush();
  const used = process.cpuUsage(before);
  perExportMs.push((used.user + used.system) / 1000);
}
await provider.shutdown();
await sink.close();

const rest = perExportMs.slice(1).sort((a, b) => a - b);
const median = rest[Math.floor(rest.length / 2)] ?? 0;
console.log(`exports received by the sink: ${sink.exports}`);
console.log(`CPU per export of ${spans} spans: first ${perExportMs[0]!.toFixed(1)} ms; then median ${median.toFixed(1)} ms`);
console.log(`  (${perExportMs.map((ms) => ms.toFixed(1)).join(' · ')} ms), ${((median * 1000) / spans).toFixed(1)} µs per span`);
