import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { freePort } from '../../src/net/free-port.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { queryable } from '../reliability/helpers/postgres.ts';
import { alive, fresh, freshFrom, spawnHoldfast, type HoldfastProcess } from './helpers/holdfast-process.ts';

// WEB_CONCURRENCY > 1, as `npm start` runs it: a primary and its workers on one port.

const CLUSTER_START_MS = 60_000;

function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

function queriesOf(answer: { headers: Record<string, string | string[] | undefined> }): number | undefined {
  const timing = String(answer.headers['server-timing'] ?? '');
  const n = /desc="(\d+) quer/.exec(timing)?.[1];
  return n === undefined ? undefined : Number(n);
}

describe('WEB_CONCURRENCY=2 against a test database', () => {
  let db: TestDatabase;
  let app: HoldfastProcess;
  let url: string;
  let pids: number[] = [];
  let client: pg.Client;

  beforeAll(async () => {
    // Not migrated: the primary must do it, once, before forking.
    db = await createTestDatabase({ migrate: false });
    app = spawnHoldfast({
      WEB_CONCURRENCY: '2',
      DATABASE_URL: db.url,
      DB_POOL_MIN: '1',
      DB_POOL_MAX: '5',
      SEED_DEMO: 'false',
      RATE_LIMIT_ENABLED: 'false',
      // Cache every read, so that the second read of a product is a hit (admission is tested in test/cache/).
      CACHE_ADMISSION_THRESHOLD: '1',
    });
    url = String((await app.waitForLine((l) => l.msg === 'holdfast cluster listening', CLUSTER_START_MS)).url);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
  }, CLUSTER_START_MS + 10_000);

  afterAll(async () => {
    app?.kill();
    await client?.end();
    await db?.drop();
  });

  it('serves the shared port from two worker processes, not from the primary', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const answer = await fresh(`${url}/api/health`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-worker']).toMatch(/^\d+; pid=\d+$/);
      seen.add(answer.workerPid!);
    }
    pids = [...seen];
    expect(pids).toHaveLength(2);
    expect(pids).not.toContain(app.child.pid);
    // Migrations ran once, in the primary.
    const migrationLines = app.lines.filter((l) => l.component === 'migrations');
    expect(migrationLines.length).toBeGreaterThan(0);
    expect(migrationLines.every((l) => l.role === 'primary')).toBe(true);
    expect(
      app.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('connection budget: 2 workers × DB_POOL_MAX 5 = 10 of')),
    ).toBe(true);
  });

  it('answers /metrics from any worker with the whole cluster: pool max summed, workers counted', async () => {
    const [a, b] = pids as [number, number];
    for (const pid of [a, b]) {
      const answer = await freshFrom(pid, `${url}/metrics`);
      expect(answer.status, answer.text).toBe(200);
      expect(metricValue(answer.text, 'holdfast_db_pool_max')).toBe(10);
      expect(metricValue(answer.text, 'holdfast_db_pool_min')).toBe(2);
      expect(metricValue(answer.text, 'holdfast_cluster_workers_ready')).toBe(2);
      expect(metricValue(answer.text, 'holdfast_cluster_scrape_missing_workers')).toBe(0);
      // A per-process p99 is the worst worker's, never a sum: well under one second here.
      expect(metricValue(answer.text, 'holdfast_pressure_event_loop_delay_p99_seconds')).toBeLessThan(5);
      expect(answer.text).toContain('holdfast_cache_mode{mode="memory"} 2');
    }
  });

  it('shares the cursor secret: a page cursor from one worker is accepted by the other', async () => {
    for (let i = 0; i < 3; i++) await insertProduct(queryable(client), { category: 'cursor-test' });
    const [a, b] = pids as [number, number];
    const first = await freshFrom(a, `${url}/api/products?category=cursor-test&limit=1`);
    expect(first.status, first.text).toBe(200);
    const cursor = (first.body as { nextCursor: string | null }).nextCursor;
    expect(cursor).not.toBeNull();
    const second = await freshFrom(b, `${url}/api/products?category=cursor-test&limit=1&cursor=${encodeURIComponent(cursor!)}`);
    expect(second.status, second.text).toBe(200);
    expect((second.body as { items: unknown[] }).items).toHaveLength(1);
  });

  it("keeps the workers' in-memory caches coherent: an order on one worker refreshes the product on the other", async () => {
    const productId = await insertProduct(queryable(client), { stock: 10 });
    const customerId = await insertCustomer(queryable(client));
    const [a, b] = pids as [number, number];
    for (const pid of [a, b]) {
      await freshFrom(pid, `${url}/api/products/${productId}`); // loads and caches
      const cached = await freshFrom(pid, `${url}/api/products/${productId}`);
      expect(queriesOf(cached)).toBe(0);
      expect(cached.body.stock).toBe(10);
    }
    const order = await fresh(`${url}/api/orders`, { method: 'POST', body: { customerId, items: [{ productId, quantity: 3 }] } });
    expect(order.status, order.text).toBe(201);
    for (const pid of [a, b]) {
      const after = await freshFrom(pid, `${url}/api/products/${productId}`);
      expect(after.body.stock, `worker ${pid} after an order on worker ${order.workerPid}`).toBe(7);
    }
  });

  it(
    'replaces a worker that crashed, after a backoff pause, and keeps counting in /metrics',
    async () => {
      const victim = pids[0]!;
      process.kill(victim, 'SIGKILL');
      const restart = await app.waitForLine((l) => l.msg === 'worker exited unexpectedly; restarting it' && l.workerPid === victim);
      expect(restart.signal).toBe('SIGKILL');
      expect(Number(restart.restartInMs)).toBeGreaterThanOrEqual(250);
      await app.waitForLine(
        (l) => l.msg === 'worker ready' && l.workerPid !== victim && !pids.includes(Number(l.workerPid)),
        CLUSTER_START_MS,
      );
      const seen = new Set<number>();
      for (let i = 0; i < 6; i++) seen.add((await fresh(`${url}/api/health`)).workerPid!);
      expect(seen.size).toBe(2);
      expect(seen.has(victim)).toBe(false);
      const metrics = await fresh(`${url}/metrics`);
      expect(metricValue(metrics.text, 'holdfast_cluster_worker_restarts_total')).toBe(1);
      expect(metricValue(metrics.text, 'holdfast_cluster_workers_ready')).toBe(2);
      pids = [...seen];
    },
    CLUSTER_START_MS + 10_000,
  );

  it('on SIGTERM drains every worker, and the primary exits 0 once all exited cleanly', async () => {
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(app.lines.filter((l) => l.msg === 'worker stopped' && l.code === 0)).toHaveLength(2);
    expect(app.lines.some((l) => l.msg === 'holdfast cluster stopped' && l.clean === true)).toBe(true);
    for (const pid of pids) expect(alive(pid), `worker ${pid} still running`).toBe(false);
  }, 30_000);
});

describe('the connection budget', () => {
  const processes: HoldfastProcess[] = [];
  afterEach(() => {
    for (const p of processes.splice(0)) p.kill();
  });

  it('refuses workers × DB_POOL_MAX beyond the server’s connections: exit 2, naming the numbers and the fixes', async () => {
    const db = await createTestDatabase({ migrate: false });
    try {
      const admin = new pg.Client({ connectionString: inject('databaseAdminUrl') });
      await admin.connect();
      const { rows } = await admin.query<{ max: string; reserved: string }>(
        "SELECT current_setting('max_connections') AS max, current_setting('superuser_reserved_connections') AS reserved",
      );
      await admin.end();
      const max = Number(rows[0]!.max);
      const app = spawnHoldfast({
        WEB_CONCURRENCY: '2',
        DATABASE_URL: db.url,
        DB_POOL_MIN: '1',
        DB_POOL_MAX: String(max),
        SEED_DEMO: 'false',
      });
      processes.push(app);
      expect(await app.exited).toBe(2);
      const message = app.stderr();
      expect(message).toContain(
        `holdfast: Connection budget exceeded: WEB_CONCURRENCY=2 workers × DB_POOL_MAX=${max} = ${2 * max} connections`,
      );
      expect(message).toContain(`max_connections ${max} − ${rows[0]!.reserved} superuser-reserved`);
      expect(message).toMatch(/lower DB_POOL_MAX to \d+ or less/);
      expect(message).toContain('raise max_connections');
      expect(app.lines.some((l) => l.msg === 'starting workers')).toBe(false);
    } finally {
      await db.drop();
    }
  });
});

describe('WEB_CONCURRENCY=2 with embedded Postgres (DATABASE_URL unset)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'holdfast-cluster-pg-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the server once in the primary, hands its URL to both workers, and stops it after them', async () => {
    const app = spawnHoldfast({
      WEB_CONCURRENCY: '2',
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(await freePort()),
      DB_POOL_MIN: '1',
      DB_POOL_MAX: '5',
    });
    try {
      const url = String((await app.waitForLine((l) => l.msg === 'holdfast cluster listening', 90_000)).url);
      const seen = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const answer = await fresh(`${url}/api/products?limit=1`);
        expect(answer.status, answer.text).toBe(200);
        expect((answer.body as { items: unknown[] }).items).toHaveLength(1); // the demo store, seeded once
        seen.add(answer.workerPid!);
      }
      expect(seen.size).toBe(2);
      expect(app.lines.filter((l) => l.msg === 'embedded Postgres ready')).toHaveLength(1);
      expect(app.lines.find((l) => l.msg === 'embedded Postgres ready')?.role).toBe('primary');
      expect(app.lines.filter((l) => l.msg === 'loaded demo data into the empty store')).toHaveLength(1);
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
      const stoppedAt = app.lines.findIndex((l) => l.msg === 'embedded Postgres stopped');
      expect(stoppedAt).toBeGreaterThan(app.lines.findLastIndex((l) => l.msg === 'worker stopped'));
    } finally {
      app.kill();
    }
  }, 120_000);
});

describe('WEB_CONCURRENCY=1 (the default)', () => {
  it('serves in-process as before: no primary, no X-Worker header', async () => {
    const db = await createTestDatabase({ migrate: false });
    const app = spawnHoldfast({ DATABASE_URL: db.url, DB_POOL_MIN: '1', DB_POOL_MAX: '5', SEED_DEMO: 'false' });
    try {
      const url = String((await app.waitForLine((l) => l.msg === 'holdfast listening')).url);
      const answer = await fresh(`${url}/api/health`);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-worker']).toBeUndefined();
      expect(app.lines.some((l) => l.role === 'primary')).toBe(false);
      app.child.kill('SIGTERM');
      expect(await app.exited).toBe(0);
    } finally {
      app.kill();
      await db.drop();
    }
  });
});
