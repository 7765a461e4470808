import Fastify from 'fastify';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { openRequestContext } from '../../src/http/context.ts';
import { createFingerprinter } from '../../src/profiler/fingerprint.ts';
import { httpSpans } from '../../src/telemetry/http-spans.ts';
import { startTracing } from '../../src/telemetry/tracer.ts';
import { captureLogs } from '../helpers/logs.ts';

describe('the server span in logs and the Context', () => {
  const exporter = new InMemorySpanExporter();
  const tracing = startTracing(loadConfig({}).telemetry, { exporter })!;
  afterAll(() => tracing.shutdown());

  it('puts trace_id and span_id in every log line of the request, and the span in its Context', async () => {
    const logs = captureLogs('info');
    const app = Fastify({ loggerInstance: logs.logger });
    await app.register(httpSpans(tracing));
    app.get('/things/:id', (request) => {
      const ctx = openRequestContext(request);
      request.log.info('handling');
      return { trace: ctx.trace };
    });
    const answer = await app.inject({
      url: '/things/7',
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
    const { trace } = answer.json<{ trace: { traceId: string; spanId: string; sampled: boolean } }>();
    expect(trace).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', sampled: true });
    const line = logs.lines.find((l) => l.msg === 'handling');
    expect(line).toMatchObject({ trace_id: trace.traceId, span_id: trace.spanId });
    await tracing.flush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toContain('GET /things/:id');
    await app.close();
  });

  it('fingerprints a commented statement as the plain one (statistics are not split per trace)', () => {
    const fingerprints = createFingerprinter();
    expect(fingerprints.of("select 1 from t where id = $1 /*traceparent='00-ab-cd-01'*/").id).toBe(
      fingerprints.of('select 1 from t where id = $1').id,
    );
  });
});
