import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHoldfast, type Holdfast } from '../../src/app.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts';
import { insertCustomer, insertProduct, stockOf } from '../helpers/store-fixtures.ts';
import { cannotStart, findPgBouncer, startPgBouncer, type PgBouncer } from './helpers/pgbouncer.ts';
import { TEST } from '../helpers/context.ts';
import { queryable } from '../reliability/helpers/postgres.ts';

// Holdfast through PgBouncer in transaction mode with DB_PREPARED_STATEMENTS=false.
// PgBouncer gets fewer server connections (3) than the app's pool (10), so
// consecutive transactions of one pool connection really run on different
// server connections: anything session-bound would break here.

const binary = findPgBouncer();
const bouncer: PgBouncer | undefined =
  binary === undefined
    ? undefined
    : await startPgBouncer(binary, {
        serverUrl: inject('databaseAdminUrl'),
        poolSize: 3,
        // Without this PgBouncer 1.18 refuses every connection of ours: "unsupported startup parameter: statement_timeout".
        ignoreStartupParameters: ['statement_timeout'],
      }).catch(cannotStart);

describe.skipIf(bouncer === undefined)('through PgBouncer (transaction mode)', () => {
  let db: TestDatabase;
  let direct: pg.Client;
  let logs: CapturedLogs;
  const apps: Holdfast[] = [];

  async function start(env: Record<string, string>, captured = captureLogs('warn')): Promise<Holdfast> {
    const config = loadConfig({
      DATABASE_URL: bouncer!.urlFor(db.name),
      HOST: '127.0.0.1',
      PORT: '0',
      SEED_DEMO: 'false',
      DB_POOL_MIN: '2',
      DB_POOL_MAX: '10',
      DB_ADAPTIVE_LIMIT: 'false',
      RATE_LIMIT_ENABLED: 'false',
      // Every read goes to the database, through PgBouncer, rather than to the cache.
      CACHE_ENABLED: 'false',
      // Queueing through PgBouncer, not shedding, is under test (test/http/overload.test.ts sheds).
      POOL_CODEL_ENABLED: 'false',
      ...env,
    });
    const app = await startHoldfast(config, captured.logger);
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    direct = new pg.Client({ connectionString: db.url });
    await direct.connect();
    // Where a timeout survives transaction pooling: on the database (or role), applied to every server connection.
    await direct.query(`ALTER DATABASE ${db.name} SET statement_timeout = '1500ms'`);
    logs = captureLogs('warn');
    // Migrations too run through PgBouncer here, as `npm start` would run them.
    await start({ DB_PREPARED_STATEMENTS: 'false' }, logs);
  });

  afterAll(async () => {
    for (const app of apps.splice(0)) await app.stop();
    await direct?.end();
    await db?.drop();
    await bouncer?.stop();
  });

  it('places racing orders exactly once each, never overselling, with idempotent retries', async () => {
    const app = apps[0]!;
    const productId = await insertProduct(queryable(direct), { stock: 20, priceCents: 250 });
    const customerId = await insertCustomer(queryable(direct));
    const order = (key: string, quantity = 1) =>
      fetch(`${app.url}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify({ customerId, items: [{ productId, quantity }] }),
      });

    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => order(`race-${i}`).then((r) => r.status)));
    expect(results.filter((s) => s === 201)).toHaveLength(20);
    expect(results.filter((s) => s === 409)).toHaveLength(10);
    expect(await stockOf(queryable(direct), productId)).toBe(0);

    const again = await order('race-0');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await order('race-0', 2)).status).toBe(422);
    const { rows } = await direct.query<{ n: string }>('SELECT count(*) AS n FROM orders WHERE customer_id = $1', [customerId]);
    expect(Number(rows[0]!.n)).toBe(20);
  });

  it('serves every read route under concurrency', async () => {
    const app = apps[0]!;
    const productId = await insertProduct(queryable(direct));
    const customerId = await insertCustomer(queryable(direct));
    const paths = [
      `/api/products/${productId}`,
      '/api/products?limit=5',
      `/api/customers/${customerId}`,
      `/api/customers/${customerId}/orders?limit=5`,
      '/api/reports/top-products?days=30&limit=5',
      '/api/ready',
    ];
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        fetch(`${app.url}${paths[i % paths.length]}`).then(async (r) => ({ status: r.status, text: await r.text() })),
      ),
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
  });

  it('drops the statement_timeout startup parameter: the database setting applies, and start-up says so', async () => {
    const app = apps[0]!;
    const { rows } = await app.pool.query<{ t: string }>(TEST, { text: "SELECT current_setting('statement_timeout') AS t" });
    expect(rows[0]!.t).toBe('1500ms'); // not DB_STATEMENT_TIMEOUT_MS=10000
    await expect(app.pool.query(TEST, { text: 'SELECT pg_sleep(3)' })).rejects.toMatchObject({ code: 'QUERY_TIMEOUT' }); // 503 QUERY_TIMEOUT, from the database's 1.5 s
    expect(
      logs.lines.some((l) =>
        String(l.msg).startsWith('DB_STATEMENT_TIMEOUT_MS=10000 is not in effect: the server applies statement_timeout 1500 ms'),
      ),
    ).toBe(true);
  });

  it('leaves no advisory lock behind after the migrations ran through it', async () => {
    const { rows } = await direct.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = $1",
      [db.name],
    );
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('needs DB_PREPARED_STATEMENTS=false: with named statements, connections sharing server sessions fail', async () => {
    const named = await start({ DB_PREPARED_STATEMENTS: 'true' });
    const productId = await insertProduct(queryable(direct));
    const statuses = await Promise.all(
      Array.from({ length: 200 }, () =>
        fetch(`${named.url}/api/products/${productId}`).then(async (r) => (await r.arrayBuffer(), r.status)),
      ),
    );
    // The control: the same load on the same PgBouncer with names stripped never fails (previous tests).
    expect(statuses.filter((s) => s >= 500).length).toBeGreaterThan(0);
  });
});
