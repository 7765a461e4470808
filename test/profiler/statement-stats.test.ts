import { describe, expect, it } from 'vitest';
import { createFingerprinter } from '../../src/profiler/fingerprint.ts';
import { redactPlan } from '../../src/profiler/plan-redaction.ts';
import { serverTiming } from '../../src/profiler/request-plugin.ts';
import { describeParameters } from '../../src/profiler/slow-log.ts';
import { createStatementStats } from '../../src/profiler/statement-stats.ts';

const fingerprints = createFingerprinter();
const sample = (durationMs: number, extra: Partial<{ waitMs: number; rows: number; failed: boolean }> = {}) => ({
  durationMs,
  waitMs: 0,
  rows: 1,
  failed: false,
  ...extra,
});

describe('statement statistics', () => {
  it('keeps calls, total, mean, p95, max, rows, errors and wait per fingerprint', () => {
    const stats = createStatementStats({ maxFingerprints: 10 });
    const fp = fingerprints.of('select * from t where id = $1');
    for (let i = 1; i <= 100; i++) stats.record(fp, sample(i <= 95 ? 1 : 200, { waitMs: 0.5, rows: 2, failed: i === 1 }));
    const [s] = stats.top(5);
    expect(s).toMatchObject({ id: fp.id, fingerprint: fp.text, calls: 100, errors: 1, rows: 200, maxMs: 200 });
    expect(s!.totalMs).toBe(95 + 5 * 200);
    expect(s!.meanMs).toBeCloseTo(10.95, 5);
    expect(s!.p95Ms).toBe(1); // the 95th of 100 values is still a 1 ms call
    expect(s!.wait).toEqual({ totalMs: 50, meanMs: 0.5, maxMs: 0.5 });
  });

  it('stays within maxFingerprints however many distinct statements arrive', () => {
    const max = 500;
    const stats = createStatementStats({ maxFingerprints: max });
    const hot = fingerprints.of('select * from hot where id = $1');
    for (let i = 0; i < 10 * max; i++) {
      stats.record(fingerprints.of(`select * from one_off_${i}`), sample(0.1));
      if (i % 100 === 0) stats.record(hot, sample(5));
      expect(stats.size).toBeLessThanOrEqual(max);
    }
    expect(stats.size).toBe(max);
    expect(stats.evicted).toBe(10 * max + 1 - max);
    // Least-total eviction: the one-offs churn the cheapest slots, the hot statement stays.
    expect(stats.top(1)[0]!.id).toBe(hot.id);
    expect(stats.get(hot.id)!.calls).toBe(50);
  });

  it('evicts the least total time, then the least recently seen', () => {
    const stats = createStatementStats({ maxFingerprints: 2 });
    const [a, b, c] = ['select a', 'select b', 'select c'].map((t) => fingerprints.of(t));
    stats.record(a!, sample(10));
    stats.record(b!, sample(1));
    stats.record(c!, sample(1));
    expect(stats.get(b!.id)).toBeUndefined();
    expect(stats.get(a!.id)).toBeDefined();
    expect(stats.get(c!.id)).toBeDefined();
  });

  it('orders by total time and keeps plans only for known fingerprints', () => {
    const stats = createStatementStats({ maxFingerprints: 10 });
    const few = fingerprints.of('select few');
    const many = fingerprints.of('select many');
    stats.record(few, sample(50));
    for (let i = 0; i < 100; i++) stats.record(many, sample(1));
    expect(stats.top(10).map((s) => s.id)).toEqual([many.id, few.id]);
    const plan = { capturedAt: new Date().toISOString(), triggerMs: 50, plan: [] };
    expect(stats.setPlan(few.id, plan)).toBe(true);
    expect(stats.setPlan('0000000000000000', plan)).toBe(false);
    expect(stats.get(few.id)!.plan).toBe(plan);
  });
});

describe('redaction helpers', () => {
  it('describes parameters by count and type, never by value', () => {
    const summary = describeParameters([7, 'hunter2', null, new Date(), Buffer.from('x'), [1], true, 10n]);
    expect(summary).toEqual({ count: 8, types: ['number', 'string', 'null', 'Date', 'Buffer', 'array', 'boolean', 'bigint'] });
    expect(JSON.stringify(summary)).not.toContain('hunter2');
    expect(describeParameters(undefined)).toEqual({ count: 0, types: [] });
  });

  it('takes values out of captured plans and keeps names and estimates', () => {
    const plan = [
      {
        Plan: {
          'Node Type': 'Index Scan',
          'Index Name': 'customers_email_key',
          'Relation Name': 'orders_2024',
          'Index Cond': "(email = 'hunter2@example.com'::text)",
          Filter: "((total_cents > 4321) AND (note = 'it''s'))",
          'Total Cost': 8.27,
          'Plan Rows': 1,
          Plans: [{ 'Node Type': 'Seq Scan', 'Subplan Name': 'SubPlan 1', Filter: "(id = ANY ('{1,2}'::bigint[]))" }],
        },
      },
    ];
    const redacted = JSON.stringify(redactPlan(plan));
    expect(redacted).not.toMatch(/hunter2|4321|it''s|\{1,2\}/);
    expect(redacted).toContain("(email = '?'::text)");
    expect(redacted).toContain('(total_cents > ?)');
    expect(redacted).toContain('orders_2024');
    expect(redacted).toContain('SubPlan 1');
    expect(redacted).toContain('"Total Cost":8.27');
  });
});

describe('serverTiming', () => {
  it('formats the header value', () => {
    expect(serverTiming({ queries: 3, dbMs: 12.345, waitMs: 0.1 })).toBe('db;dur=12.35;desc="3 queries", db-wait;dur=0.1');
    expect(serverTiming({ queries: 1, dbMs: 0.5, waitMs: 0 })).toBe('db;dur=0.5;desc="1 query", db-wait;dur=0');
  });
});
