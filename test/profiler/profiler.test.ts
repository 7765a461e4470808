/**
 * The profiler fed by a real pool on real Postgres: statistics, the slow
 * log and its redaction, and plan capture off the query path.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFingerprinter } from '../../src/profiler/fingerprint.ts';
import { startProfiledPool, type ProfiledPool } from './harness.ts';
import { TEST } from '../helpers/context.ts';
import { requestContext } from '../../src/context/context.ts';

const SECRET = 'hunter2-do-not-log@example.com';
const fingerprints = createFingerprinter();
const isExplain = (text: string) => text.startsWith('EXPLAIN');

let h: ProfiledPool;
beforeAll(async () => {
  h = await startProfiledPool({ slowQueryMs: 30, explainIntervalS: 60 });
  await h.pool.query(TEST, {
    text: `INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'C' || g FROM generate_series(1, 50) g`,
  });
  await h.pool.query(TEST, { text: 'INSERT INTO customers (email, name) VALUES ($1, $2)', values: [SECRET, 'Secret'] });
});
afterAll(() => h?.close());

const slowLines = () => h.logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('slow query'));

describe('statistics', () => {
  it('counts calls, rows and errors per fingerprint, with p95', async () => {
    for (let i = 1; i <= 5; i++) await h.pool.query(TEST, { text: 'SELECT id FROM customers WHERE id <= $1', values: [i] });
    await expect(h.pool.query(TEST, { text: 'SELECT id FROM customers WHERE id <= $1', values: ['not a number'] })).rejects.toThrow();
    const s = h.profiler.statement(fingerprints.of('select id from customers where id <= ?').id)!;
    expect(s).toMatchObject({ calls: 6, errors: 1, rows: 1 + 2 + 3 + 4 + 5 });
    expect(s.p95Ms).toBeGreaterThan(0);
    expect(s.p95Ms).toBeLessThanOrEqual(s.maxMs);
    expect(s.meanMs).toBeCloseTo(s.totalMs / 6, 2);
  });
});

describe('slow-query log', () => {
  it("names the statement's sampled trace, and no trace when it was not sampled", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const before = slowLines().length;
    for (const sampled of [true, false]) {
      const ctx = requestContext(`traced-${sampled}`, 'GET /traced', { trace: { traceId, spanId: '00f067aa0ba902b7', sampled } });
      await h.pool.query(ctx, { text: 'SELECT pg_sleep(0.05) AS traced' });
    }
    const [sampledLine, unsampledLine] = slowLines().slice(before);
    expect(sampledLine).toMatchObject({ requestId: 'traced-true', trace_id: traceId });
    expect(unsampledLine).toMatchObject({ requestId: 'traced-false' });
    expect(unsampledLine).not.toHaveProperty('trace_id');
  });

  it('logs one structured warning above the threshold, and nothing for fast statements', async () => {
    const before = slowLines().length;
    await h.pool.query(TEST, { text: 'SELECT 1 AS fast' });
    expect(slowLines().length).toBe(before);

    await h.pool.query(TEST, { text: 'SELECT pg_sleep(0.05), id FROM customers WHERE email = $1', values: [SECRET] });
    const lines = slowLines().slice(before);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    const fp = fingerprints.of('select pg_sleep(?), id from customers where email = ?');
    expect(line.level).toBe(40);
    expect(line.slowQuery).toMatchObject({
      id: fp.id,
      fingerprint: fp.text,
      command: 'select',
      rows: 1,
      thresholdMs: 30,
      params: { count: 1, types: ['string'] },
    });
    const q = line.slowQuery as { durationMs: number; waitMs: number };
    expect(q.durationMs).toBeGreaterThanOrEqual(50);
    expect(q.waitMs).toBeGreaterThanOrEqual(0);
    expect(h.profiler.slowQueriesTotal).toBeGreaterThanOrEqual(1);
    expect(h.profiler.statement(fp.id)!.slowCalls).toBe(1);
  });

  it('never writes a parameter value, not even when Postgres quotes it in an error', async () => {
    const before = slowLines().length;
    // 22P02: invalid input syntax for type integer: "hunter2-…" — the message carries the value.
    const failing = { text: 'SELECT (pg_sleep(0.05)::text || $1::text)::int', values: [SECRET] };
    await expect(h.pool.query(TEST, failing)).rejects.toThrow(/invalid input syntax.*hunter2/);
    const line = slowLines().slice(before)[0]!;
    expect(line.slowQuery).toMatchObject({ error: { code: '22P02' }, params: { count: 1, types: ['string'] } });
    await h.profiler.settled();
    expect(h.logs.raw()).not.toContain('hunter2');
  });
});

describe('plan capture', () => {
  beforeEach(() => h.profiler.settled()); // captures started by earlier tests
  it('EXPLAINs a slow SELECT after the query returns, with its values, and stores it redacted', async () => {
    const text = 'SELECT pg_sleep(0.04), name FROM customers WHERE email = $1';
    const fp = fingerprints.of(text);
    const explainsBefore = h.events.filter((e) => isExplain(e.statement.text)).length;

    await h.pool.query(TEST, { text, values: [SECRET] });
    // Still on the query's own tick: nothing explained yet.
    expect(h.events.filter((e) => isExplain(e.statement.text)).length).toBe(explainsBefore);
    expect(h.profiler.statement(fp.id)!.plan).toBeNull();

    await h.profiler.settled();
    const explains = h.events.filter((e) => isExplain(e.statement.text)).slice(explainsBefore);
    expect(explains).toHaveLength(1);
    expect(explains[0]!.statement.text).toBe(`EXPLAIN (FORMAT JSON) ${text}`);
    expect(explains[0]!.statement.values).toEqual([SECRET]);

    const plan = h.profiler.statement(fp.id)!.plan!;
    expect(plan.triggerMs).toBeGreaterThanOrEqual(40);
    const json = JSON.stringify(plan.plan);
    expect(json).toContain('"Node Type"');
    expect(json).toContain("'?'"); // the email, redacted
    expect(json).not.toContain('hunter2');
  });

  it('does not profile or count the EXPLAIN itself', () => {
    const report = h.profiler.report(500);
    expect(report.statements.some((s) => s.fingerprint.startsWith('explain'))).toBe(false);
    const profiled = h.events.filter((e) => !isExplain(e.statement.text)).length;
    expect(h.profiler.queriesTotal).toBe(profiled);
  });

  it('captures at most one plan per fingerprint per interval', async () => {
    const text = 'SELECT pg_sleep(0.04), count(*) FROM customers';
    const before = h.events.filter((e) => isExplain(e.statement.text)).length;
    for (let i = 0; i < 3; i++) await h.pool.query(TEST, { text });
    await h.profiler.settled();
    expect(h.events.filter((e) => isExplain(e.statement.text)).length - before).toBe(1);
  });

  it('never EXPLAINs writes', async () => {
    const before = h.events.filter((e) => isExplain(e.statement.text)).length;
    await h.pool.query(TEST, { text: 'UPDATE customers SET name = name WHERE pg_sleep(0.04) IS NOT NULL AND id = $1', values: [1] });
    await h.profiler.settled();
    expect(h.events.filter((e) => isExplain(e.statement.text)).length).toBe(before);
    expect(h.events.every((e) => !/EXPLAIN ANALYZE/i.test(e.statement.text))).toBe(true);
  });
});
