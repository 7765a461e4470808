/**
 * The root sampling decision (src/telemetry/tracer.ts, `root`): taken before
 * any span exists, on the trace id the span then carries, so an unsampled
 * request builds nothing and a sampled one is exactly what the SDK records.
 */
import { ROOT_CONTEXT, defaultTextMapGetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemorySpanExporter, TraceIdRatioBasedSampler, SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { startTracing, type Tracing } from '../../src/telemetry/tracer.ts';

const propagator = new W3CTraceContextPropagator();
const started: Tracing[] = [];
afterEach(async () => {
  for (const t of started.splice(0)) await t.shutdown();
});

function tracingWith(sampler: string, ratio?: number): { tracing: Tracing; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const env =
    ratio === undefined ? { OTEL_TRACES_SAMPLER: sampler } : { OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: String(ratio) };
  const tracing = startTracing(loadConfig(env).telemetry, { exporter })!;
  started.push(tracing);
  return { tracing, exporter };
}

function parent(traceparent: string) {
  return propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
}

describe('root', () => {
  it('builds no span for an unsampled request, yet gives it ids', async () => {
    const { tracing, exporter } = tracingWith('parentbased_always_off');
    let opened = 0;
    const { span, ref } = tracing.root(ROOT_CONTEXT, () => {
      opened++;
      return tracing.tracer.startSpan('never');
    });
    expect(opened).toBe(0);
    expect(span).toBeUndefined();
    expect(ref).toMatchObject({
      traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      sampled: false,
    });
    await tracing.flush();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it("follows an incoming parent's flag under a parent-based sampler, in the parent's trace", () => {
    const { tracing } = tracingWith('parentbased_always_off');
    const sampled = tracing.root(parent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), () =>
      tracing.tracer.startSpan('s', {}, parent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')),
    );
    expect(sampled.span).toBeDefined();
    expect(sampled.ref).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', sampled: true });
    const unsampled = tracing.root(parent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'), () => tracing.tracer.startSpan('no'));
    expect(unsampled.span).toBeUndefined();
    expect(unsampled.ref).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', sampled: false });
    expect(unsampled.ref.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('samples a root on the trace id its span then carries, as the ratio sampler would', async () => {
    const { tracing, exporter } = tracingWith('parentbased_traceidratio', 0.5);
    const ratio = new TraceIdRatioBasedSampler(0.5);
    const refs = [];
    for (let i = 0; i < 200; i++) {
      const { span, ref } = tracing.root(ROOT_CONTEXT, () => tracing.tracer.startSpan('root'));
      // Opened only when sampled, and then recorded: the SDK decided the same on the same id.
      expect(span !== undefined).toBe(ref.sampled);
      if (span !== undefined) expect(span.isRecording()).toBe(true);
      const verdict = ratio.shouldSample(ROOT_CONTEXT, ref.traceId).decision;
      expect(verdict === SamplingDecision.RECORD_AND_SAMPLED).toBe(ref.sampled);
      span?.end();
      refs.push(ref);
    }
    await tracing.flush();
    const exported = exporter.getFinishedSpans().map((s) => s.spanContext().traceId);
    expect(exported.sort()).toEqual(
      refs
        .filter((r) => r.sampled)
        .map((r) => r.traceId)
        .sort(),
    );
    expect(exported.length).toBeGreaterThan(0);
    expect(exported.length).toBeLessThan(200);
  });
});
