/**
 * The N+1 detector against a deliberately naive handler (one query for the
 * list, one more per row) and its batched rewrite, over real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFingerprinter } from '../../src/profiler/fingerprint.ts';
import { profilerMetrics } from '../../src/profiler/metrics.ts';
import { contextOf } from '../../src/http/context.ts';
import { TEST } from '../helpers/context.ts';
import { assertNoNPlusOne, failOnNPlusOne } from '../helpers/n-plus-one.ts';
import { startProfiledServer, type ProfiledServer } from './harness.ts';

const ORDERS = 8; // more than the threshold of 5
const PER_ORDER = 'SELECT id, name FROM customers WHERE id = $1';
const fingerprints = createFingerprinter();

let s: ProfiledServer;
beforeAll(async () => {
  s = await startProfiledServer({ nPlusOneThreshold: 5 }, async (api, { pool }) => {
    api.get('/naive', async (request) => {
      const ctx = contextOf(request);
      const { rows: orders } = await pool.query<{ id: string; customer_id: string }>(ctx, {
        text: 'SELECT id, customer_id FROM orders ORDER BY id',
      });
      const out = [];
      for (const order of orders) {
        const { rows } = await pool.query<{ name: string }>(ctx, { text: PER_ORDER, values: [order.customer_id] });
        out.push({ id: order.id, customer: rows[0]?.name });
      }
      return out;
    });
    api.get('/batched', async (request) => {
      const ctx = contextOf(request);
      const { rows: orders } = await pool.query<{ id: string; customer_id: string }>(ctx, {
        text: 'SELECT id, customer_id FROM orders ORDER BY id',
      });
      const { rows: customers } = await pool.query<{ id: string; name: string }>(ctx, {
        text: 'SELECT id, name FROM customers WHERE id = ANY($1::bigint[])',
        values: [orders.map((o) => o.customer_id)],
      });
      const names = new Map(customers.map((c) => [c.id, c.name]));
      return orders.map((o) => ({ id: o.id, customer: names.get(o.customer_id) }));
    });
    api.get('/at-threshold', async (request) => {
      for (let i = 1; i <= 5; i++) await pool.query(contextOf(request), { text: PER_ORDER, values: [i] });
      return { ok: true };
    });
    api.get('/transactions', async (request) => {
      // Eight transactions: BEGIN and COMMIT repeat, but they are never an N+1.
      for (let i = 0; i < ORDERS; i++) await pool.transaction(contextOf(request), (tx) => tx.query({ text: `SELECT 1 AS column_${i}` }));
      return { ok: true };
    });
  });
  await s.pool.query(TEST, {
    text: `INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'C' || g FROM generate_series(1, ${ORDERS}) g`,
  });
  await s.pool.query(TEST, { text: `INSERT INTO orders (customer_id, total_cents) SELECT id, 100 FROM customers` });
});
afterAll(() => s?.close());

const warnings = () => s.logs.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('N+1 query'));

describe('the N+1 detector', () => {
  it('catches a naive 1+N handler, once per request, naming the route and the statement', async () => {
    const before = s.profiler.nPlusOneTotal;
    const warned = warnings().length;
    const res = await fetch(`${s.baseUrl}/api/naive`);
    expect(res.status).toBe(200); // reported, never refused
    expect(((await res.json()) as unknown[]).length).toBe(ORDERS);

    expect(s.profiler.nPlusOneTotal).toBe(before + 1);
    const lines = warnings().slice(warned);
    expect(lines).toHaveLength(1);
    const fp = fingerprints.of(PER_ORDER);
    expect(lines[0]).toMatchObject({
      level: 40,
      route: 'GET /api/naive',
      nPlusOne: { fingerprintId: fp.id, fingerprint: fp.text, threshold: 5 },
    });
    expect(lines[0]!.msg).toContain('GET /api/naive');

    const recent = s.profiler.report(0).nPlusOne.at(-1)!;
    expect(recent).toMatchObject({ route: 'GET /api/naive', fingerprintId: fp.id, count: ORDERS, threshold: 5 });
    expect(recent.requestId).toEqual(expect.any(String));
    expect(() => assertNoNPlusOne(s.profiler, before)).toThrow(/GET \/api\/naive: 8× select id, name from customers where id = \?/);

    await fetch(`${s.baseUrl}/api/naive`).then((r) => r.text());
    expect(s.profiler.nPlusOneTotal).toBe(before + 2); // a new request is a new violation
  });

  it('feeds holdfast_n_plus_one_total', async () => {
    const metric = profilerMetrics(s.profiler).find((m) => m.name === 'holdfast_n_plus_one_total')!;
    expect((await metric.get()).values).toEqual([{ value: s.profiler.nPlusOneTotal }]);
  });

  describe('silent cases (any N+1 here fails the test through failOnNPlusOne)', () => {
    failOnNPlusOne(() => s?.profiler);

    it('is silent for the batched rewrite', async () => {
      const warned = warnings().length;
      const res = await fetch(`${s.baseUrl}/api/batched`);
      expect(((await res.json()) as unknown[]).length).toBe(ORDERS);
      expect(warnings().length).toBe(warned);
    });

    it('is silent at exactly the threshold', async () => {
      await fetch(`${s.baseUrl}/api/at-threshold`).then((r) => r.text());
    });

    it('ignores repeated transaction control', async () => {
      await fetch(`${s.baseUrl}/api/transactions`).then((r) => r.text());
    });
  });
});
