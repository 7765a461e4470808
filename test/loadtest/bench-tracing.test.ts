import { describe, expect, it } from 'vitest';
import { parseSampling } from '../../bench/args.ts';
import { OTLP_SINK } from '../../bench/otlp-sink.ts';
import { holdfastVariants } from '../../bench/plan.ts';

describe('bench tracing cells', () => {
  it('reads off and percentages', () => {
    expect(parseSampling('off,1%,100%')).toEqual([0, 0.01, 1]);
    expect(() => parseSampling('150%')).toThrow(/--tracing/);
    expect(() => parseSampling('on')).toThrow(/--tracing/);
  });

  it('runs Holdfast once per sampling, exporting to the sink only when on', () => {
    const variants = holdfastVariants([], [], [0, 0.01, 1]);
    expect(variants.map((v) => v.label)).toEqual(['holdfast (tracing off)', 'holdfast (tracing 1%)', 'holdfast (tracing 100%)']);
    expect(variants[0]!.env).toEqual({});
    expect(variants[1]!.env).toEqual({
      OTEL_EXPORTER_OTLP_ENDPOINT: OTLP_SINK,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
    });
  });
});
