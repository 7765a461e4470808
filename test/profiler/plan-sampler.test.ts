/**
 * The plan sampler's scheduling rules, over a fake database that records
 * what it was asked and how many EXPLAINs ran at once.
 */
import { describe, expect, it } from 'vitest';
import type { Queryable, Statement } from '../../src/db/types.ts';
import { createFingerprinter } from '../../src/profiler/fingerprint.ts';
import { createPlanSampler } from '../../src/profiler/plan-sampler.ts';
import type { CapturedPlan } from '../../src/profiler/statement-stats.ts';
import { isUnprofiled } from '../../src/profiler/unprofiled.ts';
import { captureLogs } from '../helpers/logs.ts';

const fingerprints = createFingerprinter();

function fakeDatabase(delayMs = 5) {
  const seen: Statement[] = [];
  let running = 0;
  let maxConcurrent = 0;
  const db: Queryable = {
    async query(_ctx, statement) {
      seen.push(statement);
      running++;
      maxConcurrent = Math.max(maxConcurrent, running);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      running--;
      if (statement.text.includes('broken')) throw Object.assign(new Error('syntax error at "hunter2"'), { code: '42601' });
      return { rows: [{ 'QUERY PLAN': [{ Plan: { 'Node Type': 'Seq Scan', Filter: "(a = 'hunter2')" } }] }] as never[], rowCount: 1 };
    },
  };
  return { db, seen, maxConcurrent: () => maxConcurrent };
}

function sampler(intervalS: number) {
  const plans = new Map<string, CapturedPlan>();
  const logs = captureLogs();
  const s = createPlanSampler({
    intervalS,
    logger: logs.logger,
    store: (id, plan) => {
      plans.set(id, plan);
      return true;
    },
  });
  return { s, plans, logs };
}

describe('plan sampler', () => {
  it('runs one EXPLAIN at a time, unprofiled, never ANALYZE, and stores it redacted', async () => {
    const { s, plans } = sampler(60);
    const fake = fakeDatabase();
    s.attach(fake.db);
    const fps = Array.from({ length: 5 }, (_, i) => fingerprints.of(`select * from t${i} where a = $1`));
    for (const fp of fps) s.offer(fp, { text: `SELECT * FROM ${fp.text.split(' ')[3]} WHERE a = $1`, values: ['hunter2'] }, 150)!();
    expect(fake.seen).toHaveLength(0); // started with setImmediate, not inline
    await s.settled();
    expect(fake.seen).toHaveLength(5);
    expect(fake.maxConcurrent()).toBe(1);
    for (const st of fake.seen) {
      expect(st.text).toMatch(/^EXPLAIN \(FORMAT JSON\) SELECT/);
      expect(isUnprofiled(st)).toBe(true);
    }
    expect(JSON.stringify([...plans.values()])).not.toContain('hunter2');
    expect(s.captured).toBe(5);
  });

  it('claims one slot per fingerprint per interval, and none when the interval is 0', () => {
    const fp = fingerprints.of('select * from once');
    const on = sampler(60).s;
    on.attach(fakeDatabase().db);
    expect(on.offer(fp, { text: 'select * from once' }, 200)).toBeTypeOf('function');
    expect(on.offer(fp, { text: 'select * from once' }, 200)).toBeUndefined();
    const off = sampler(0).s;
    off.attach(fakeDatabase().db);
    expect(off.offer(fp, { text: 'select * from once' }, 200)).toBeUndefined();
  });

  it('declines writes and statements without a database to run on', () => {
    const { s } = sampler(60);
    expect(s.offer(fingerprints.of('select 1'), { text: 'select 1' }, 200)).toBeUndefined(); // not attached
    s.attach(fakeDatabase().db);
    expect(s.offer(fingerprints.of('update t set a = 1'), { text: 'update t set a = 1' }, 200)).toBeUndefined();
  });

  it('bounds its queue and drops the rest', async () => {
    const { s } = sampler(60);
    s.attach(fakeDatabase(1).db);
    for (let i = 0; i < 40; i++) s.offer(fingerprints.of(`select * from q${i}`), { text: `select * from q${i}` }, 200)!();
    await s.settled();
    expect(s.captured + s.dropped).toBe(40);
    expect(s.dropped).toBeGreaterThan(0);
  });

  it('logs a failed EXPLAIN by code only', async () => {
    const { s, logs } = sampler(60);
    s.attach(fakeDatabase().db);
    s.offer(fingerprints.of('select broken'), { text: 'select broken', values: ['hunter2'] }, 200)!();
    await s.settled();
    expect(s.failed).toBe(1);
    expect(logs.lines.at(-1)).toMatchObject({ msg: 'could not capture a query plan', code: '42601' });
    expect(logs.raw()).not.toContain('hunter2');
  });

  it('drops queued work on close', async () => {
    const { s } = sampler(60);
    const fake = fakeDatabase();
    s.attach(fake.db);
    for (let i = 0; i < 3; i++) s.offer(fingerprints.of(`select * from c${i}`), { text: `select * from c${i}` }, 200)!();
    s.close();
    await s.settled();
    expect(fake.seen).toHaveLength(0);
    expect(s.offer(fingerprints.of('select * from later'), { text: 'select * from later' }, 200)).toBeUndefined();
  });
});
