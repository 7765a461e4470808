/**
 * The traces Holdfast exports, received over OTLP/HTTP and decoded with the
 * official protobuf definitions (otlp-receiver.ts): the span tree of a
 * product read, a cache hit and an order (a transaction) through the whole
 * service, and, at the store level, a batched read (links), a transaction
 * and a pool timeout. Also: with no
 * endpoint set, no SDK is started.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { requestContext, type Context } from '../../src/context/context.ts';
import type { Priority } from '../../src/context/priority.ts';
import { poolOverloaded } from '../../src/db/pool/errors.ts';
import type { Database } from '../../src/db/types.ts';
import { createProductStore } from '../../src/store/products.ts';
import { dbSpans } from '../../src/telemetry/db-spans.ts';
import { refOf, startTracing, type Tracing } from '../../src/telemetry/tracer.ts';
import { startTestApp, startTestPool, type TestApp } from '../helpers/app.ts';
import { expectProblem, postJson, request } from '../helpers/http.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { childrenOf, startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';
import { startTracedApp, type TracedApp } from './traced-app.ts';

const INCOMING_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_SPAN = '00f067aa0ba902b7';

describe('traces through the service', () => {
  let receiver: OtlpReceiver;
  let app: TestApp;
  let traced: TracedApp | undefined;

  beforeAll(async () => {
    traced = await startTracedApp({ OTEL_SERVICE_NAME: 'holdfast-test', CACHE_ENABLED: 'true', CACHE_ADMISSION_THRESHOLD: '1' });
    ({ app, receiver } = traced);
  });
  afterAll(() => traced?.close());

  it('exports a product read as a server span over its statement, continuing the incoming traceparent', async () => {
    const id = await insertProduct(app.pool, { name: 'Traced widget' });
    const answer = await request(`${app.baseUrl}/api/products/${id}`, {
      headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01`, tracestate: 'vendor=x' },
    });
    expect(answer.status).toBe(200);
    await app.tracing!.flush();

    expect(receiver.contentTypes[0]).toBe('application/x-protobuf');
    const server = receiver.spans.find((s) => s.name === 'GET /api/products/:id' && s.traceId === INCOMING_TRACE);
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    expect(server!).toMatchObject({
      parentSpanId: INCOMING_SPAN,
      kind: 'SPAN_KIND_SERVER',
      serviceName: 'holdfast-test',
      attributes: { 'http.route': '/api/products/:id', 'http.request.method': 'GET', 'http.response.status_code': 200 },
    });
    const statements = childrenOf(receiver.spans, server!).filter((s) => s.kind === 'SPAN_KIND_CLIENT');
    expect(statements).toHaveLength(1);
    expect(statements[0]!.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'db.response.returned_rows': 1 });
    // The fingerprint: placeholders, never the id the request asked for.
    expect(String(statements[0]!.attributes['db.query.text'])).toMatch(/^select .* from products where id = \?$/);
    expect(String(statements[0]!.attributes['db.query.text'])).not.toContain(String(id));
    expect(statements[0]!.startNs >= server!.startNs && statements[0]!.endNs <= server!.endNs).toBe(true);
    const lookup = childrenOf(receiver.spans, server!).filter((s) => s.name === 'cache lookup');
    expect(lookup.map((s) => s.attributes['holdfast.cache.outcome'])).toEqual(['miss']);
    // From the statement back to the trace: /admin/queries lists the trace id under the fingerprint.
    const row = app.profiler.report(50).statements.find((s) => s.id === statements[0]!.attributes['holdfast.db.fingerprint']);
    expect(row?.slowestTraces.map((t) => t.traceId)).toContain(INCOMING_TRACE);
  });

  it('exports a cache hit as a lookup span with no statement', async () => {
    const id = await insertProduct(app.pool);
    expect((await request(`${app.baseUrl}/api/products/${id}`)).status).toBe(200);
    const answer = await request(`${app.baseUrl}/api/products/${id}`);
    expect(answer.status).toBe(200);
    await app.tracing!.flush();
    const servers = receiver.spans.filter((s) => s.name === 'GET /api/products/:id' && s.parentSpanId === '');
    const second = servers.find((s) => childrenOf(receiver.spans, s).some((c) => c.attributes['holdfast.cache.outcome'] === 'hit'));
    expect(second, JSON.stringify(servers.map((s) => childrenOf(receiver.spans, s).map((c) => c.name)))).toBeDefined();
    expect(childrenOf(receiver.spans, second!).map((s) => s.name)).toEqual(['cache lookup']);
  });

  it('exports an order as a transaction under its server span, with its acquire and every statement', async () => {
    const productId = await insertProduct(app.pool, { stock: 5 });
    const customerId = await insertCustomer(app.pool);
    const answer = await postJson(`${app.baseUrl}/api/orders`, { customerId, items: [{ productId, quantity: 2 }] });
    expect(answer.status).toBe(201);
    await app.tracing!.flush();

    const server = receiver.spans.find((s) => s.name === 'POST /api/orders');
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    const tx = childrenOf(receiver.spans, server!).filter((s) => s.name === 'transaction');
    expect(tx).toHaveLength(1);
    expect(tx[0]!.status).toBe('STATUS_CODE_UNSET');
    const inside = childrenOf(receiver.spans, tx[0]!).sort((a, b) => (a.startNs < b.startNs ? -1 : 1));
    const names = inside.map((s) => s.name);
    // Acquire, then the order's statements (customer check, stock update, order insert) between BEGIN and COMMIT.
    expect(names).toEqual(['pool acquire', 'BEGIN', 'SELECT', 'UPDATE', 'WITH', 'COMMIT']);
    for (const s of inside.slice(1)) expect(s).toMatchObject({ kind: 'SPAN_KIND_CLIENT', attributes: { 'db.system.name': 'postgresql' } });
  });

  it('puts the trace id in problem+json bodies', async () => {
    const answer = await request(`${app.baseUrl}/api/products/987654321`, {
      headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01` },
    });
    expect(expectProblem(answer, 404, 'NOT_FOUND').traceId).toBe(INCOMING_TRACE);
  });
});

describe('tracing off', () => {
  it('starts no SDK and adds nothing when no endpoint is set', async () => {
    expect(startTracing(loadConfig({}).telemetry)).toBeUndefined();
    const app = await startTestApp();
    try {
      expect(app.tracing).toBeUndefined();
      const answer = await request(`${app.baseUrl}/api/products/987654321`, {
        headers: { traceparent: `00-${INCOMING_TRACE}-${INCOMING_SPAN}-01` },
      });
      expect(expectProblem(answer, 404, 'NOT_FOUND')).not.toHaveProperty('traceId');
    } finally {
      await app.close();
    }
  });
});

describe('database spans', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let stack: Awaited<ReturnType<typeof startTestPool>>;
  let db: ReturnType<ReturnType<typeof dbSpans>['database']>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = startTracing({ ...loadConfig({}).telemetry, otlpEndpoint: receiver.url })!;
    const spans = dbSpans(tracing);
    stack = await startTestPool({ max: 1, min: 1, acquireTimeoutMs: 300, onQuery: spans.onQuery });
    db = spans.database(stack.pool);
  });
  afterAll(async () => {
    await stack?.close();
    await tracing?.shutdown();
    await receiver?.close();
  });

  function traced(name: string, priority?: Priority): { ctx: Context; end(): void; spanId: string; traceId: string } {
    const span = tracing.tracer.startSpan(name);
    const ref = refOf(span);
    return { ctx: requestContext(name, `GET /${name}`, { trace: ref, priority }), end: () => span.end(), ...ref };
  }

  it('exports a batched read as one statement linked to every request, and a batch wait in each', async () => {
    const [a, b] = [await insertProduct(stack.pool), await insertProduct(stack.pool)];
    const products = createProductStore(db, { batching: { maxBatch: 64 } });
    const first = traced('first');
    const second = traced('second');
    const found = await Promise.all([products.get(first.ctx, a), products.get(second.ctx, b)]);
    expect(found.map((p) => p?.id)).toEqual([a, b]);
    first.end();
    second.end();
    await tracing.flush();

    const batched = receiver.spans.filter((s) => s.attributes['holdfast.batch.size'] === 2 && s.kind === 'SPAN_KIND_CLIENT');
    expect(batched).toHaveLength(1);
    expect(batched[0]!.links.map((l) => l.spanId).sort()).toEqual([first.spanId, second.spanId].sort());
    expect(String(batched[0]!.attributes['db.query.text'])).toMatch(/where id = any\(\?::bigint\[\]\)$/);
    for (const member of [first, second]) {
      const waits = receiver.spans.filter((s) => s.name === 'batch wait' && s.parentSpanId === member.spanId);
      expect(waits).toHaveLength(1);
      expect(waits[0]!.links).toEqual([{ traceId: batched[0]!.traceId, spanId: batched[0]!.spanId }]);
    }
  });

  it('exports a transaction with its acquire and every statement under it', async () => {
    const order = traced('order');
    await db.transaction(order.ctx, async (tx) => {
      await tx.query({ text: "SELECT count(*) FROM products WHERE category = 'general'" });
    });
    order.end();
    await tracing.flush();

    const tx = receiver.spans.find((s) => s.name === 'transaction' && s.parentSpanId === order.spanId);
    expect(tx).toBeDefined();
    const children = childrenOf(receiver.spans, tx!);
    expect(children.map((s) => s.name).sort()).toEqual(['BEGIN', 'COMMIT', 'SELECT', 'pool acquire'].sort());
    const select = children.find((s) => s.name === 'SELECT')!;
    expect(select.attributes['db.query.text']).not.toContain('general');
    expect(children.find((s) => s.name === 'pool acquire')!.attributes['holdfast.pool.outcome']).toBe('acquired');
  });

  it('exports a pool timeout as a failed acquire span', async () => {
    // Another session holds a product's row; the pool's one connection waits on it. A row lock, not a table
    // lock: the statement then waits while it executes, with its text (and comment) in pg_stat_activity,
    // rather than while it is parsed, when the server may show no text yet.
    const id = await insertProduct(stack.pool);
    const locker = new pg.Client({ connectionString: stack.database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT id FROM products WHERE id = $1 FOR UPDATE', [id]);
      const holder = traced('holder');
      const held = db.query(holder.ctx, { name: 'lock-product', text: 'SELECT id FROM products WHERE id = $1 FOR UPDATE', values: [id] });
      // From the database back to the trace: the blocked statement names its trace in pg_stat_activity.
      // The locker is inside a transaction, where pg_stat_activity is one snapshot for the whole transaction
      // (stats_fetch_consistency = cache): clear it before each look, or the poll never sees the wait begin.
      let running: string[] = [];
      const giveUp = performance.now() + 10_000;
      while (!running.some((q) => q.startsWith('SELECT id FROM products WHERE id = $1 FOR UPDATE'))) {
        if (performance.now() > giveUp) throw new Error(`the held statement never showed as waiting: ${JSON.stringify(running)}`);
        await locker.query('SELECT pg_stat_clear_snapshot()');
        const { rows } = await locker.query<{ query: string }>(
          "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
        );
        running = rows.map((r) => r.query);
      }
      expect(running).toEqual([
        `SELECT id FROM products WHERE id = $1 FOR UPDATE /*traceparent='00-${holder.traceId}-${holder.spanId}-01'*/`,
      ]);
      const starved = traced('starved');
      await expect(db.query(starved.ctx, { text: 'SELECT 1' })).rejects.toMatchObject({ code: 'POOL_TIMEOUT' });
      await locker.query('ROLLBACK');
      await held;
      holder.end();
      starved.end();
      await tracing.flush();

      const acquire = receiver.spans.find((s) => s.name === 'pool acquire' && s.parentSpanId === starved.spanId);
      expect(acquire).toMatchObject({ status: 'STATUS_CODE_ERROR', attributes: { 'holdfast.pool.outcome': 'POOL_TIMEOUT' } });
    } finally {
      await locker.end();
    }
  });

  it("exports CoDel's refusal as a failed acquire span naming the request's priority", async () => {
    // The pool's own refusal (CoDel dropping, tested in test/db/pool/overload.test.ts): here only its span.
    const refusing: Database = {
      query: () => Promise.reject(poolOverloaded('low')),
      transaction: () => Promise.reject(poolOverloaded('low')),
    };
    const shedDb = dbSpans(tracing).database(refusing);
    const report = traced('report', 'low');
    await expect(shedDb.query(report.ctx, { text: 'SELECT 1' })).rejects.toMatchObject({ code: 'POOL_OVERLOADED' });
    report.end();
    await tracing.flush();

    const acquire = receiver.spans.find((s) => s.name === 'pool acquire' && s.parentSpanId === report.spanId);
    expect(acquire).toMatchObject({
      status: 'STATUS_CODE_ERROR',
      attributes: { 'holdfast.pool.outcome': 'POOL_OVERLOADED', 'holdfast.pool.priority': 'low', 'holdfast.db.role': 'primary' },
    });
  });
});
