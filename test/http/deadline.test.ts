/**
 * Deadlines and abandoned requests over HTTP (issue 15): the request's
 * timeout headers, 503 DEADLINE_EXCEEDED with the statement cancelled, and a
 * client hanging up while its statement waits on a lock. Slowness is a lock
 * held by another session; "gone" is read from pg_stat_activity.
 */
import { request as httpRequest } from 'node:http';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertProducts } from '../helpers/store-fixtures.ts';

let app: TestApp;
let id: number;
let admin: pg.Client;
let locker: pg.Client | undefined;

beforeAll(async () => {
  app = await startTestApp({ env: { CACHE_ENABLED: 'false' } });
  id = (await insertProducts(app.pool, 1, () => '2024-03-01T00:00:00Z', 'deadline-http'))[0]!;
  admin = new pg.Client({ connectionString: app.database.url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await app?.close();
});
afterEach(async () => {
  await locker?.end();
  locker = undefined;
});

async function lockProducts(): Promise<void> {
  locker = new pg.Client({ connectionString: app.database.url });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
}

/** Statements of this database waiting on a lock. */
async function waitingOnLock(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
  );
  return rows[0]!.n;
}

async function until(condition: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

async function abandonedMetric(stage: string): Promise<number> {
  const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`holdfast_abandoned_requests_total{stage="${stage}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('request deadlines over HTTP', () => {
  it('answers a malformed Request-Timeout with 400 BAD_REQUEST_TIMEOUT', async () => {
    const res = await fetch(`${app.baseUrl}/api/products/${id}`, { headers: { 'request-timeout': '1e3' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await res.json()) as { code: string }).code).toBe('BAD_REQUEST_TIMEOUT');
  });

  it('answers 503 DEADLINE_EXCEEDED with Retry-After behind a locked table, and the statement is gone', async () => {
    await lockProducts();
    const res = await fetch(`${app.baseUrl}/api/products/${id}`, { headers: { 'request-timeout': '0.2' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(((await res.json()) as { code: string }).code).toBe('DEADLINE_EXCEEDED');
    await until(async () => (await waitingOnLock()) === 0);
  });

  it('cancels the statement of a client who hangs up, and counts it', async () => {
    await lockProducts();
    const before = await abandonedMetric('statement');
    const req = httpRequest(`${app.baseUrl}/api/products/${id}`);
    req.on('error', () => {});
    req.end();
    await until(async () => (await waitingOnLock()) === 1);
    req.destroy();
    await until(async () => (await waitingOnLock()) === 0);
    expect(await abandonedMetric('statement')).toBe(before + 1);
  });
});
