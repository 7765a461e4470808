/**
 * The pool's metrics under OpenTelemetry's semantic-convention names
 * (src/telemetry/pool-meter.ts), exported by the real SDK and exporter
 * (src/telemetry/meter.ts) to a real OTLP/HTTP receiver that decodes them
 * with the official protobuf definitions (otlp-receiver.ts). A real pool on
 * real Postgres: its states while a lease is held and a request waits, a
 * real acquire timeout behind a table lock held by another session, and the
 * three duration histograms. Then the composition root: the primary and a
 * replica pool each under its own name.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { backgroundContext } from '../../src/context/context.ts';
import { createPool, type ConnectionPool } from '../../src/db/pool/pool.ts';
import { isAppError } from '../../src/errors/app-error.ts';
import { startMetrics, type Metering } from '../../src/telemetry/meter.ts';
import { createPoolMeter, DURATION_BUCKETS_S } from '../../src/telemetry/pool-meter.ts';
import { startTestApp, testPoolOptions, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedPoint } from './otlp-receiver.ts';

const POOL = 'test-pool';
const POOL_NAME = 'db.client.connection.pool.name';
const STATE = 'db.client.connection.state';
const CTX = backgroundContext('pool-meter test');
/** Long enough for a collection to see the waiter on a busy machine, short enough for a test. */
const ACQUIRE_TIMEOUT_MS = 1000;
/** Bound on waiting for an export the test expects (the interval is 200 ms). */
const EXPORT_WAIT_MS = 10_000;

/** The point named `name` (with `attributes`) from the newest export that has one. */
function latest(receiver: OtlpReceiver, name: string, attributes: Record<string, string> = {}): ReceivedPoint {
  const matching = receiver.points.filter(
    (p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v) && p.attributes[POOL_NAME] === POOL,
  );
  const point = matching.at(-1);
  if (point === undefined)
    throw new Error(`no ${name} ${JSON.stringify(attributes)} among ${[...new Set(receiver.points.map((p) => p.name))].join(', ')}`);
  return point;
}

/** A histogram's count and sum so far: zero before its first value. */
function recorded(receiver: OtlpReceiver, name: string): { count: number; sum: number } {
  const point = receiver.points.filter((p) => p.name === name && p.attributes[POOL_NAME] === POOL).at(-1);
  return { count: point?.count ?? 0, sum: point?.value ?? 0 };
}

/** Collects and exports now, and returns the values of the gauges of that export. */
async function snapshot(metering: Metering, receiver: OtlpReceiver) {
  const before = receiver.metricExports;
  await metering.flush();
  await receiver.waitFor(() => receiver.metricExports > before, EXPORT_WAIT_MS);
  const value = (name: string, attributes?: Record<string, string>) => latest(receiver, name, attributes).value;
  return {
    idle: value('db.client.connection.count', { [STATE]: 'idle' }),
    used: value('db.client.connection.count', { [STATE]: 'used' }),
    pending: value('db.client.connection.pending_requests'),
    timeouts: value('db.client.connection.timeouts'),
  };
}

describe('the pool under db.client.connection.* over OTLP', () => {
  let receiver: OtlpReceiver;
  let database: TestDatabase;
  let metering: Metering;
  let pool: ConnectionPool;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    database = await createTestDatabase();
    const config = loadConfig({
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
      OTEL_SERVICE_NAME: 'holdfast-metrics-test',
    });
    metering = startMetrics(config.telemetry)!;
    const pools = createPoolMeter(metering.meter);
    // One connection, never validated before a lease (so an acquire takes it at once), a short acquire timeout.
    pool = createPool(
      testPoolOptions(database.url, {
        min: 1,
        max: 1,
        acquireTimeoutMs: ACQUIRE_TIMEOUT_MS,
        validateAfterIdleMs: 3_600_000,
        observer: pools.observer(POOL),
      }),
    );
    pools.watch(POOL, pool.counters);
    await pool.start();
  });
  afterAll(async () => {
    await metering?.shutdown();
    await pool?.end(0);
    await database?.drop();
    await receiver?.close();
  });

  it('exports every interval on its own, under the semantic-convention names, units and kinds', async () => {
    // No flush: the periodic reader's own export.
    await receiver.waitFor(() => receiver.points.some((p) => p.name === 'db.client.connection.count'), EXPORT_WAIT_MS);
    expect(receiver.contentTypes.at(-1)).toBe('application/x-protobuf');
    await metering.flush();

    const count = latest(receiver, 'db.client.connection.count', { [STATE]: 'idle' });
    expect(count).toMatchObject({ unit: '{connection}', type: 'sum', monotonic: false, temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE' });
    expect(count.serviceName).toBe('holdfast-metrics-test');
    expect(count.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const name of [
      'db.client.connection.idle.max',
      'db.client.connection.idle.min',
      'db.client.connection.limit',
      'db.client.connection.max',
    ])
      expect(latest(receiver, name), name).toMatchObject({ unit: '{connection}', type: 'sum', monotonic: false, value: 1 });
    expect(latest(receiver, 'db.client.connection.pending_requests')).toMatchObject({ unit: '{request}', type: 'sum', monotonic: false });
    expect(latest(receiver, 'db.client.connection.timeouts')).toMatchObject({ unit: '{timeout}', type: 'sum', monotonic: true });

    // The connection opened at start: one create_time, in seconds, in the advised buckets.
    const create = latest(receiver, 'db.client.connection.create_time');
    expect(create).toMatchObject({ unit: 's', type: 'histogram', explicitBounds: DURATION_BUCKETS_S });
    expect(create.count).toBe(1);
    expect(create.value).toBeGreaterThan(0);
    expect(create.value).toBeLessThan(5);
  });

  it('reports a held lease as used, then idle again, with its wait and use time', async () => {
    expect(await snapshot(metering, receiver)).toMatchObject({ idle: 1, used: 0, pending: 0 });
    const usesBefore = recorded(receiver, 'db.client.connection.use_time').count;

    const lease = await pool.acquire(CTX);
    try {
      expect(await snapshot(metering, receiver)).toMatchObject({ idle: 0, used: 1, pending: 0 });
      await lease.query({ text: 'SELECT 1' });
    } finally {
      lease.release();
    }
    expect(await snapshot(metering, receiver)).toMatchObject({ idle: 1, used: 0 });
    const use = latest(receiver, 'db.client.connection.use_time');
    expect(use).toMatchObject({ unit: 's', type: 'histogram', explicitBounds: DURATION_BUCKETS_S });
    expect(use.count).toBe(usesBefore + 1);
    expect(use.bucketCounts.reduce((a, b) => a + b, 0)).toBe(use.count);
    expect(latest(receiver, 'db.client.connection.wait_time')).toMatchObject({ unit: 's', type: 'histogram', count: use.count });
  });

  it('counts a request waiting behind a lease blocked by a table lock, and its timeout', async () => {
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      const { timeouts: timeoutsBefore } = await snapshot(metering, receiver);
      const usedBefore = recorded(receiver, 'db.client.connection.use_time');
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
      // Takes the pool's one connection at once, then waits on the lock.
      const blocked = pool.query(CTX, { text: 'SELECT count(*) FROM products' });
      expect(pool.active).toBe(1);
      // No connection left: waits in the queue, up to the acquire timeout.
      const waiting = pool.query(CTX, { text: 'SELECT 1' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(pool.waiting).toBe(1);
      expect(await snapshot(metering, receiver)).toMatchObject({ idle: 0, used: 1, pending: 1, timeouts: timeoutsBefore });

      expect(isAppError(await waiting, 'POOL_TIMEOUT')).toBe(true);
      expect(await snapshot(metering, receiver)).toMatchObject({ used: 1, pending: 0, timeouts: timeoutsBefore + 1 });

      await locker.query('ROLLBACK');
      await blocked;
      expect(await snapshot(metering, receiver)).toMatchObject({ idle: 1, used: 0, timeouts: timeoutsBefore + 1 });
      // The blocked statement held its connection through the whole timeout.
      const use = latest(receiver, 'db.client.connection.use_time');
      expect(use.count).toBe(usedBefore.count + 1);
      expect(use.value - usedBefore.sum).toBeGreaterThanOrEqual((ACQUIRE_TIMEOUT_MS - 5) / 1000); // timers round to the ms
    } finally {
      await locker.end();
    }
  });
});

describe('the pool metrics through the composition root', () => {
  let receiver: OtlpReceiver;
  let app: TestApp;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    app = await startTestApp({
      env: {
        // Not a standby, so never in rotation (the lag sampler says why): its pool exists all the same.
        DATABASE_REPLICA_URLS: inject('databaseAdminUrl'),
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
        OTEL_METRIC_EXPORT_INTERVAL: '200',
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('reports the primary pool as `holdfast`, as its spans do, and a replica pool under its host:port', async () => {
    const replica = new URL(inject('databaseAdminUrl'));
    const replicaName = `${replica.hostname}:${replica.port === '' ? '5432' : replica.port}`;
    const countOf = (name: string) => (p: ReceivedPoint) => p.name === 'db.client.connection.count' && p.attributes[POOL_NAME] === name;
    await receiver.waitFor(
      () => receiver.points.filter(countOf('holdfast')).length >= 2 && receiver.points.some(countOf(replicaName)),
      EXPORT_WAIT_MS,
    );
    expect(new Set(receiver.points.filter(countOf('holdfast')).map((p) => p.attributes[STATE]))).toEqual(new Set(['idle', 'used']));
    const limits = receiver.points.filter((p) => p.name === 'db.client.connection.limit');
    expect(limits.find((p) => p.attributes[POOL_NAME] === 'holdfast')?.value).toBe(app.pool.max);
    expect(limits.find((p) => p.attributes[POOL_NAME] === replicaName)?.value).toBe(app.config.database.replicas.poolMax);
    // Tracing stays off: only metrics were configured.
    expect(app.tracing).toBeUndefined();
  });
});
