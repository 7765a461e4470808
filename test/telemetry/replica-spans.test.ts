/**
 * Database spans name the pool that served them (src/telemetry/db-spans.ts
 * wired per pool in src/app.ts), received over OTLP from the running service
 * on a real primary and streaming standby (test/helpers/replication.ts): a
 * read routed to the replica has its acquire and statement spans labelled
 * with the replica's pool name, host and port, and an order's (on the
 * primary) with the primary's. A primary named by DATABASE_URL's multi-host
 * form labels each statement with the host it ran on. Also how a pool's URL
 * becomes its labels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolLabels } from '../../src/telemetry/db-spans.ts';
import { PRIMARY_POOL_NAME } from '../../src/telemetry/pool-meter.ts';
import { freePort } from '../../src/net/free-port.ts';
import type { TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { postJson, request } from '../helpers/http.ts';
import { replicationBinaries, startReplicatedPostgres, type ReplicatedPostgres } from '../helpers/replication.ts';
import { childrenOf, freshTraceId, traceparent, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
import { startTracedApp, type TracedApp } from './traced-app.ts';

const binaries = replicationBinaries();
if (binaries === undefined) {
  if (process.env.CI === 'true') throw new Error('Debian PostgreSQL binaries (pg_basebackup) are required under CI');
  console.warn('\n*** SKIPPING test/telemetry/replica-spans.test.ts: no /usr/lib/postgresql/<major>/bin with pg_basebackup ***\n');
}

function descendantsOf(spans: ReceivedSpan[], root: ReceivedSpan): ReceivedSpan[] {
  return childrenOf(spans, root).flatMap((c) => [c, ...descendantsOf(spans, c)]);
}

describe('poolLabels', () => {
  it('names one fixed host and port, never the credentials', () => {
    const labels = poolLabels('10.0.0.7:5433', 'postgres://app:s3cret@10.0.0.7:5433/holdfast', 'replica');
    expect(labels).toEqual({ name: '10.0.0.7:5433', role: 'replica', server: { address: '10.0.0.7', port: 5433 } });
    expect(JSON.stringify(labels)).not.toContain('s3cret');
    expect(poolLabels(PRIMARY_POOL_NAME, 'postgres://db.internal/holdfast', 'primary').server).toEqual({
      address: 'db.internal',
      port: 5432,
    });
    expect(poolLabels('r', 'postgres://[::1]:5433/holdfast', 'replica').server).toEqual({ address: '::1', port: 5433 });
  });

  it('leaves the host out when it is not one fixed host', () => {
    for (const url of [
      'postgres://app@h1:5432,h2:5433/holdfast',
      'postgres://app@h1,h2/holdfast',
      'postgresql:///holdfast?host=/var/run/postgresql',
      'postgres://localhost/holdfast?host=/tmp',
      undefined,
    ]) {
      expect(poolLabels(PRIMARY_POOL_NAME, url, 'primary')).toEqual({ name: PRIMARY_POOL_NAME, role: 'primary' });
    }
  });
});

describe('database spans of a primary named with several hosts', () => {
  let database: TestDatabase;
  let receiver: OtlpReceiver;
  let app: TestApp;
  let port: number;
  let traced: TracedApp | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    // The first host refuses connections (nothing listens there), so the pool selects the second.
    const url = new URL(database.url);
    port = Number(url.port || 5432);
    const multiHost = database.url.replace(`@${url.host}/`, `@127.0.0.1:${await freePort()},${url.hostname}:${port}/`);
    traced = await startTracedApp({ DATABASE_URL: `${multiHost}?target_session_attrs=any`, CACHE_ENABLED: 'false' });
    ({ app, receiver } = traced);
  });
  afterAll(async () => {
    await traced?.close();
    await database?.drop();
  });

  it('labels each statement with the host it ran on, which the URL alone does not say', async () => {
    const traceId = freshTraceId();
    const answer = await request(`${app.baseUrl}/api/products?limit=1`, { headers: { traceparent: traceparent(traceId) } });
    expect(answer.status).toBe(200);
    await app.tracing!.flush();
    const server = receiver.spans.find((s) => s.traceId === traceId && s.name === 'GET /api/products');
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    const statements = descendantsOf(receiver.spans, server!).filter((s) => s.kind === 'SPAN_KIND_CLIENT');
    expect(statements.length).toBeGreaterThan(0);
    for (const span of statements) {
      expect(span.attributes).toMatchObject({
        'db.system.name': 'postgresql',
        'db.client.connection.pool.name': PRIMARY_POOL_NAME,
        'holdfast.db.role': 'primary',
        'server.address': new URL(database.url).hostname,
        'server.port': port,
      });
    }
  });
});

describe.skipIf(binaries === undefined)('database spans of a primary and its replica, on real servers', () => {
  let pair: ReplicatedPostgres;
  let receiver: OtlpReceiver;
  let app: TestApp;
  let traced: TracedApp | undefined;
  let productId: number;
  let customerId: number;

  beforeAll(async () => {
    pair = await startReplicatedPostgres();
    traced = await startTracedApp({
      DATABASE_URL: pair.primary.url,
      DATABASE_REPLICA_URLS: pair.standby.url,
      DB_REPLICA_MAX_LAG_MS: '3600000',
      // Every read runs its statement: a cache hit would have none to label.
      CACHE_ENABLED: 'false',
    });
    ({ app, receiver } = traced);
    const admin = await pair.admin('primary');
    try {
      const insert = (sql: string) => admin.query<{ id: string }>(sql).then((r) => Number(r.rows[0]!.id));
      productId = await insert(
        `insert into products (sku, name, category, price_cents, stock) values ('T-1', 'Traced', 'tests', 100, 100) returning id`,
      );
      customerId = await insert(`insert into customers (email, name) values ('t@x', 'T') returning id`);
    } finally {
      await admin.end();
    }
    await pair.waitForReplay();
  }, 120_000);

  afterAll(async () => {
    await traced?.close();
    await pair?.destroy();
  });

  /** The database spans (acquire and statements) under the request of `traceId`. */
  async function databaseSpansOf(traceId: string, route: string): Promise<ReceivedSpan[]> {
    await app.tracing!.flush();
    const server = receiver.spans.find((s) => s.traceId === traceId && s.name === route);
    expect(server, JSON.stringify(receiver.spans.map((s) => s.name))).toBeDefined();
    return descendantsOf(receiver.spans, server!).filter((s) => s.attributes['db.system.name'] === 'postgresql');
  }

  it("labels a read served by the replica with the replica's pool, host and port", async () => {
    const traceId = freshTraceId();
    const answer = await request(`${app.baseUrl}/api/products/${productId}`, {
      headers: { traceparent: traceparent(traceId) },
    });
    expect(answer.status).toBe(200);
    const metrics = (await request(`${app.baseUrl}/metrics`)).text;
    expect(metrics).toMatch(/^holdfast_db_reads_total\{target="replica",reason="ok"\} 1$/m);

    const spans = await databaseSpansOf(traceId, 'GET /api/products/:id');
    // Sent unnamed: a sampled statement carries its traceparent comment (docs/OBSERVABILITY.md).
    expect(spans.map((s) => s.name).sort()).toEqual(['SELECT', 'pool acquire']);
    for (const span of spans) {
      expect(span.attributes).toMatchObject({
        'db.client.connection.pool.name': `127.0.0.1:${pair.standby.port}`,
        'holdfast.db.role': 'replica',
        'server.address': '127.0.0.1',
        'server.port': pair.standby.port,
      });
    }
    // A point read is `normal` (src/context/priority.ts): its acquire says so.
    expect(spans.find((s) => s.name === 'pool acquire')!.attributes['holdfast.pool.priority']).toBe('normal');
  });

  it("labels an order's statements, on the primary, with the primary's pool, host and port", async () => {
    const traceId = freshTraceId();
    const answer = await postJson(
      `${app.baseUrl}/api/orders`,
      { customerId, items: [{ productId, quantity: 1 }] },
      { traceparent: traceparent(traceId) },
    );
    expect(answer.status, answer.text).toBe(201);

    const spans = await databaseSpansOf(traceId, 'POST /api/orders');
    expect(spans.map((s) => s.name)).toContain('pool acquire');
    expect(spans.map((s) => s.name)).toContain('COMMIT');
    for (const span of spans) {
      expect(span.attributes).toMatchObject({
        'db.client.connection.pool.name': PRIMARY_POOL_NAME,
        'holdfast.db.role': 'primary',
        'server.address': '127.0.0.1',
        'server.port': pair.primary.port,
      });
    }
    // A write is `high` (it may use the connections kept for it, docs/OVERLOAD.md): every acquire of the order says so.
    const priorities = spans.filter((s) => s.name === 'pool acquire').map((s) => s.attributes['holdfast.pool.priority']);
    expect(priorities.length).toBeGreaterThan(0);
    expect(new Set(priorities)).toEqual(new Set(['high']));
  });
});
