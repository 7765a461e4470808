import { describe, expect, it } from 'vitest';
import { firstPresent, histogramQuantileDelta, parsePrometheusText, sumOf } from '../../scripts/loadtest/prometheus.ts';

const histogram = (counts: [string, number][], name = 'x_seconds') =>
  counts.map(([le, n]) => `${name}_bucket{route="/a",le="${le}"} ${n}`).join('\n');

describe('parsePrometheusText', () => {
  it('reads samples with and without labels, skipping comments, timestamps and junk', () => {
    const scrape = parsePrometheusText(
      [
        '# HELP a_total A counter',
        '# TYPE a_total counter',
        'a_total 3',
        'b{x="1",y="with \\"quote\\", comma"} 2.5 1700000000000',
        'c +Inf',
        'not a sample line at all {',
        '',
      ].join('\n'),
    );
    expect(scrape.get('a_total')).toEqual([{ name: 'a_total', labels: {}, value: 3 }]);
    expect(scrape.get('b')?.[0]?.labels).toEqual({ x: '1', y: 'with "quote", comma' });
    expect(scrape.get('b')?.[0]?.value).toBe(2.5);
    expect(sumOf(scrape, 'c')).toBe(Infinity);
    expect(sumOf(scrape, 'missing')).toBeUndefined();
    expect(firstPresent(scrape, ['missing', 'b', 'a_total'])).toBe('b');
  });

  it('sums a metric over its labels', () => {
    expect(sumOf(parsePrometheusText('r{s="200"} 5\nr{s="503"} 2\n'), 'r')).toBe(7);
  });
});

describe('histogramQuantileDelta', () => {
  const before = parsePrometheusText(
    histogram([
      ['0.01', 100],
      ['0.1', 100],
      ['1', 100],
      ['+Inf', 100],
    ]),
  );

  it('interpolates within the bucket, over the observations added between scrapes only', () => {
    // 100 new observations: 50 ≤ 10 ms, 40 in (10, 100] ms, 10 in (100 ms, 1 s].
    const after = parsePrometheusText(
      histogram([
        ['0.01', 150],
        ['0.1', 190],
        ['1', 200],
        ['+Inf', 200],
      ]),
    );
    expect(histogramQuantileDelta(before, after, 'x_seconds', 0.5)).toBeCloseTo(0.01);
    expect(histogramQuantileDelta(before, after, 'x_seconds', 0.9)).toBeCloseTo(0.1);
    expect(histogramQuantileDelta(before, after, 'x_seconds', 0.99)).toBeCloseTo(0.1 + 0.9 * 0.9);
  });

  it('answers the highest finite bound when the rank lands in +Inf', () => {
    const after = parsePrometheusText(
      histogram([
        ['0.01', 100],
        ['0.1', 100],
        ['1', 100],
        ['+Inf', 110],
      ]),
    );
    expect(histogramQuantileDelta(before, after, 'x_seconds', 0.99)).toBe(1);
  });

  it('is undefined when the histogram is absent or saw nothing new', () => {
    expect(histogramQuantileDelta(before, before, 'x_seconds', 0.99)).toBeUndefined();
    expect(histogramQuantileDelta(before, parsePrometheusText(''), 'x_seconds', 0.99)).toBeUndefined();
  });

  it('treats a missing before-scrape as zero', () => {
    expect(histogramQuantileDelta(undefined, before, 'x_seconds', 0.5)).toBeCloseTo(0.005);
  });
});
