/**
 * No secret reaches the logs: the whole service runs at trace level with a
 * DATABASE_URL that carries a password, API keys, an admin and a metrics
 * token; requests present those credentials (right and wrong, in every
 * header shape), hit errors, slow queries, a database that drops and then
 * refuses connections; and every captured log line is searched for each
 * secret and each Authorization value sent.
 *
 * The password belongs to a role created for this file on the test server
 * and dropped at the end. The local server authenticates by trust, so the
 * password travels in the URL (and to the driver) without being checked:
 * enough to prove it never comes back out in a log line.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHoldfast, type Holdfast } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createTestDatabase, withDatabase, type TestDatabase } from '../helpers/database.ts';
import { request } from '../helpers/http.ts';
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts';
import { smallStore } from './helpers.ts';

const suffix = randomBytes(4).toString('hex');
const ROLE = `holdfast_redact_${suffix}`;
const PASSWORD = `pw-${randomBytes(12).toString('hex')}`;
const WRITE_KEY = `wk-${randomBytes(12).toString('hex')}`;
const READ_KEY = `rk-${randomBytes(12).toString('hex')}`;
const ADMIN_TOKEN = `adm-${randomBytes(12).toString('hex')}`;
const METRICS_TOKEN = `met-${randomBytes(12).toString('hex')}`;

/** Every Authorization value sent, to be searched for afterwards. */
const sentAuthorizations = new Set<string>();

async function asAdmin(url: string, ...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

let database: TestDatabase;
let databaseUrl: string;
let logs: CapturedLogs;
let app: Holdfast;

beforeAll(async () => {
  const adminUrl = inject('databaseAdminUrl');
  database = await createTestDatabase();
  await asAdmin(
    adminUrl,
    `CREATE ROLE ${ROLE} LOGIN PASSWORD '${PASSWORD}'`,
    `GRANT ALL PRIVILEGES ON DATABASE ${database.name} TO ${ROLE}`,
  );
  await asAdmin(
    database.url,
    `GRANT ALL ON SCHEMA public TO ${ROLE}`,
    `GRANT ALL ON ALL TABLES IN SCHEMA public TO ${ROLE}`,
    `GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO ${ROLE}`,
  );
  const url = new URL(withDatabase(adminUrl, database.name));
  url.username = ROLE;
  url.password = PASSWORD;
  databaseUrl = url.toString();

  logs = captureLogs('trace');
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'trace',
    SEED_DEMO: 'false',
    CURSOR_SECRET: `cursor-secret-${suffix}`,
    DB_POOL_MIN: '1',
    DB_POOL_MAX: '3',
    DB_ADAPTIVE_LIMIT: 'false',
    API_KEYS: `writer:${WRITE_KEY}:write,reader:${READ_KEY}:read`,
    ADMIN_TOKEN,
    METRICS_TOKEN,
    // Every statement is slow: every one is logged, and sampled for a plan.
    SLOW_QUERY_MS: '0',
    EXPLAIN_SAMPLE_INTERVAL_S: '1',
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_ALLOW: READ_KEY,
    // Every wrong token must reach the failure log (which must not show it), not a 429.
    ADMIN_AUTH_FAILURES_PER_MINUTE: '10000',
    DB_POOL_TIMEOUT: '2',
  });
  app = await startHoldfast(config, logs.logger);
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await database?.drop();
  await asAdmin(inject('databaseAdminUrl'), `DROP ROLE IF EXISTS ${ROLE}`);
});

async function send(path: string, authorization: string | undefined, init: RequestInit = {}) {
  if (authorization !== undefined) sentAuthorizations.add(authorization);
  const headers = { ...(init.headers as Record<string, string>), ...(authorization === undefined ? {} : { authorization }) };
  return request(`${app.url}${path}`, { ...init, headers });
}

/** The Authorization values to try on a surface whose right token is `right`. */
function authorizations(right: string): string[] {
  const wrong = `${right.slice(0, -2)}zz`;
  return [
    `Bearer ${right}`,
    `bearer  ${right}`,
    `Bearer ${wrong}`,
    `Bearer ${right} trailing`,
    `Basic ${Buffer.from(`${ROLE}:${PASSWORD}`).toString('base64')}`,
    `Basic ${Buffer.from(`user:${right}`).toString('base64')}`,
    `Bearer ${PASSWORD}`,
    right,
    `Token ${right}`,
  ];
}

describe('log redaction', () => {
  it('leaks no password, API key, token or Authorization value, through every path that logs', async () => {
    const store = await smallStore(app.pool);
    const order = { customerId: store.customerId, items: [{ productId: store.productIds[0], quantity: 1 }] };

    // Writes, reads and operator surfaces, with right and wrong credentials of every shape.
    for (const authorization of [...authorizations(WRITE_KEY), ...authorizations(READ_KEY), undefined]) {
      await send('/api/orders', authorization, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': `redact-${randomBytes(4).toString('hex')}` },
        body: JSON.stringify(order),
      });
      await send(`/api/products/${store.productIds[1]}`, authorization);
    }
    for (const authorization of [...authorizations(ADMIN_TOKEN), ...authorizations(METRICS_TOKEN), undefined]) {
      await send('/admin/queries', authorization);
      await send('/metrics', authorization);
    }
    // Secrets where values go: a search string, a cursor, a header, a body member.
    await send(`/api/products?q=${WRITE_KEY}&category=${PASSWORD}`, `Bearer ${WRITE_KEY}`);
    await send(`/api/products?cursor=${ADMIN_TOKEN}`, `Bearer ${READ_KEY}`);
    await send('/api/orders', `Bearer ${WRITE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': METRICS_TOKEN },
      body: JSON.stringify({ ...order, password: PASSWORD }),
    });
    await send('/api/orders', `Bearer ${WRITE_KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"customerId":"${PASSWORD}"`,
    });

    // An internal error (a table gone), with credentials on the request.
    await asAdmin(database.url, 'ALTER TABLE customers RENAME TO customers_gone');
    expect((await send(`/api/customers/${store.customerId}`, `Bearer ${WRITE_KEY}`)).status).toBe(500);
    await asAdmin(database.url, 'ALTER TABLE customers_gone RENAME TO customers');

    // The database drops every connection, then refuses new ones for this role.
    await asAdmin(
      database.url,
      `ALTER ROLE ${ROLE} NOLOGIN`,
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`,
    );
    const refused = await send(`/api/customers/${store.customerId}`, `Bearer ${WRITE_KEY}`);
    expect(refused.status).toBe(503);
    await asAdmin(database.url, `ALTER ROLE ${ROLE} LOGIN`);
    await expect.poll(async () => (await send('/api/ready', undefined)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    await app.profiler.settled();

    const raw = logs.raw();
    // The paths that had to log did log: otherwise "no secret" would prove nothing.
    expect(logs.lines.some((l) => l.slowQuery !== undefined)).toBe(true);
    expect(logs.lines.some((l) => l.msg === 'unhandled error')).toBe(true);
    // The refused connections were logged, naming the role…
    expect(
      logs.lines.some((l) => (l.err as { message?: string } | undefined)?.message === `role "${ROLE}" is not permitted to log in`),
    ).toBe(true);

    const secrets = [
      PASSWORD,
      WRITE_KEY,
      READ_KEY,
      ADMIN_TOKEN,
      METRICS_TOKEN,
      databaseUrl,
      `cursor-secret-${suffix}`,
      ...sentAuthorizations,
    ];
    for (const secret of secrets) {
      // …and not one line holds a secret, whole or URL-encoded.
      expect(raw.includes(secret), `a log line contains ${JSON.stringify(secret)}`).toBe(false);
      expect(raw.includes(encodeURIComponent(secret)), `a log line contains ${JSON.stringify(secret)}, URL-encoded`).toBe(false);
    }
    for (const line of logs.lines) {
      for (const value of Object.values(line)) {
        if (typeof value === 'string') expect(value).not.toMatch(/Bearer \S{8,}/i);
      }
    }
  });

  it('keeps the values of those requests out of /admin/queries too (fingerprints and plans carry no parameters)', async () => {
    await app.profiler.settled();
    const report = await request(`${app.url}/admin/queries?limit=500`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(report.status).toBe(200);
    expect(report.text).toContain('from products');
    for (const secret of [PASSWORD, WRITE_KEY, READ_KEY, ADMIN_TOKEN, METRICS_TOKEN])
      expect(report.text.includes(secret), secret).toBe(false);
  });
});
