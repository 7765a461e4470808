/**
 * Read replicas wired into the app (src/db/replicas/replica-set.ts, src/app.ts),
 * on a real primary and streaming standby (test/helpers/replication.ts):
 * every order answers a Consistency-Token, and a read sending it back sees
 * the order even with replay paused; untokened reads use the replica while
 * it is within the bound, even from the cache; a forged token is 400; a
 * replica lagging past the bound leaves rotation within one sampling period.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { expectProblem, postJson, request } from '../../helpers/http.ts';
import { replicationBinaries, startReplicatedPostgres, type ReplicatedPostgres } from '../../helpers/replication.ts';

const binaries = replicationBinaries();
if (binaries === undefined) {
  if (process.env.CI === 'true') throw new Error('Debian PostgreSQL binaries (pg_basebackup) are required under CI');
  console.warn('\n*** SKIPPING test/db/replicas/replica-set.test.ts: no /usr/lib/postgresql/<major>/bin with pg_basebackup ***\n');
}

const TRIES = 1000;
const INITIAL_STOCK = 1_000_000;

/** holdfast_db_reads_total{target,reason} from /metrics, as `target/reason` → count. */
async function readsByTarget(app: TestApp): Promise<Record<string, number>> {
  const text = (await request(`${app.baseUrl}/metrics`)).text;
  const counts: Record<string, number> = {};
  for (const m of text.matchAll(/^holdfast_db_reads_total\{target="(\w+)",reason="(\w+)"\} (\d+)/gm))
    counts[`${m[1]}/${m[2]}`] = Number(m[3]);
  return counts;
}

function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

describe.skipIf(binaries === undefined)('read replicas in the app, on real servers', () => {
  let pair: ReplicatedPostgres;
  let admin: pg.Client;
  let app: TestApp;
  let productId: number;
  let customerId: number;

  const order = (quantity = 1) => postJson(`${app.baseUrl}/api/orders`, { customerId, items: [{ productId, quantity }] });
  const primaryStock = async () =>
    (await admin.query<{ stock: number }>('select stock from products where id = $1', [productId])).rows[0]!.stock;
  const product = (token?: string) =>
    request<{ stock: number }>(
      `${app.baseUrl}/api/products/${productId}`,
      token === undefined ? {} : { headers: { 'consistency-token': token } },
    );

  beforeAll(async () => {
    pair = await startReplicatedPostgres();
    app = await startTestApp({
      env: {
        DATABASE_URL: pair.primary.url,
        // Trust authentication ignores the password: it is there to prove it is never logged.
        DATABASE_REPLICA_URLS: pair.standby.url.replace('postgres@', 'postgres:s3cret-replica@'),
        // Paused replay must not take the replica out of rotation in this suite: the last suite bounds it.
        DB_REPLICA_MAX_LAG_MS: '3600000',
        DB_REPLICA_LAG_SAMPLE_MS: '100',
        // One look at the replica, then the primary: the 1,000 tries measure correctness, not the wait.
        DB_REPLICA_TOKEN_WAIT_MS: '0',
        CACHE_ENABLED: 'true',
      },
    });
    admin = await pair.admin('primary');
    productId = Number(
      (
        await admin.query<{ id: string }>(
          `insert into products (sku, name, category, price_cents, stock) values ('R-1', 'Replicated', 'tests', 100, $1) returning id`,
          [INITIAL_STOCK],
        )
      ).rows[0]!.id,
    );
    customerId = Number(
      (await admin.query<{ id: string }>(`insert into customers (email, name) values ('r@x', 'R') returning id`)).rows[0]!.id,
    );
    await pair.waitForReplay();
  }, 120_000);

  afterAll(async () => {
    await admin?.end().catch(() => undefined);
    await app?.close();
    await pair?.destroy();
  });

  it('lists the replica in /api/health, in rotation; untokened reads are served by it', async () => {
    const health = await request(`${app.baseUrl}/api/health`);
    expect(health.body.replicas).toEqual([{ host: `127.0.0.1:${pair.standby.port}`, inRotation: true, reachable: true, lagSeconds: 0 }]);
    const before = await readsByTarget(app);
    expect((await product()).body.stock).toBe(INITIAL_STOCK);
    expect(delta(await readsByTarget(app), before)).toEqual({ 'replica/ok': 1 });
    const metrics = (await request(`${app.baseUrl}/metrics`)).text;
    expect(metrics).toMatch(new RegExp(`^holdfast_db_replica_in_rotation\\{host="127.0.0.1:${pair.standby.port}"\\} 1$`, 'm'));
    expect(metrics).toMatch(/^holdfast_db_replica_lag_seconds\{host="[^"]+"\} 0$/m);
  });

  it(`with replay paused, an order then a read with its token shows the new stock, every time (${TRIES} tries)`, async () => {
    await pair.pauseReplay();
    const before = await readsByTarget(app);
    const started = performance.now();
    let stock = (await product()).body.stock;
    for (let i = 0; i < TRIES; i++) {
      const placed = await order();
      expect(placed.status, placed.text).toBe(201);
      const token = placed.headers.get('consistency-token');
      expect(token).toMatch(/\S/);
      stock -= 1;
      const read = await product(token!);
      expect(read.status).toBe(200);
      expect(read.body.stock).toBe(stock);
    }
    const ms = performance.now() - started;
    console.info(`${TRIES} order+tokened-read pairs with replay paused: ${Math.round(ms)} ms`);
    // Every tokened read went to the primary: the paused replica never reached the token.
    expect(delta(await readsByTarget(app), before)['primary/token']).toBe(TRIES);
    // Untokened, the paused replica still serves the stock from before the loop (lag under the bound).
    expect((await product()).body.stock).toBe(INITIAL_STOCK);
  }, 120_000);

  it('a tokened read skips a cache entry filled from the lagging replica after the order', async () => {
    // Replay is still paused. The order invalidates the product; two untokened reads from the replica
    // then cache its old stock (admitted on the second ask), as another instance's could.
    const placed = await order(5);
    expect(placed.status).toBe(201);
    const stale = (await product()).body.stock;
    expect((await product()).body.stock).toBe(stale);
    expect((await product()).body.stock).toBe(stale); // now from the cache
    const truth = await primaryStock();
    expect(stale).toBeGreaterThan(truth);
    expect((await product(placed.headers.get('consistency-token')!)).body.stock).toBe(truth);
  });

  it('once replayed, a tokened read is served by the replica', async () => {
    await pair.resumeReplay();
    const placed = await order();
    await pair.waitForReplay();
    const before = await readsByTarget(app);
    const read = await product(placed.headers.get('consistency-token')!);
    expect(read.body.stock).toBe(await primaryStock());
    expect(delta(await readsByTarget(app), before)).toEqual({ 'replica/ok': 1 });
  });

  it('a forged, altered or cursor token answers 400 BAD_CONSISTENCY_TOKEN', async () => {
    const placed = await order();
    const token = placed.headers.get('consistency-token')!;
    const altered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    for (const bad of ['nope', altered, 'eyJ2IjoxfQ.forged']) {
      const body = expectProblem(await product(bad), 400, 'BAD_CONSISTENCY_TOKEN');
      expect(body.field).toBe('header.consistency-token');
    }
  });

  it('never logs the replica URL’s password, and names the replica by host:port', () => {
    expect(app.logs.raw()).not.toContain('s3cret-replica');
    expect(app.logs.lines.some((l) => l.msg === 'replica joined read rotation' && l.replica === `127.0.0.1:${pair.standby.port}`)).toBe(
      true,
    );
  });
});

describe.skipIf(binaries === undefined)('a replica lagging past the bound, in the app', () => {
  const MAX_LAG_MS = 300;
  const SAMPLE_MS = 100;
  let pair: ReplicatedPostgres;
  let app: TestApp;

  beforeAll(async () => {
    pair = await startReplicatedPostgres();
    app = await startTestApp({
      env: {
        DATABASE_URL: pair.primary.url,
        DATABASE_REPLICA_URLS: pair.standby.url,
        DB_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
        DB_REPLICA_LAG_SAMPLE_MS: String(SAMPLE_MS),
        CACHE_ENABLED: 'false',
      },
    });
    const admin = await pair.admin('primary');
    await admin.query(`insert into products (sku, name, category, price_cents, stock) values ('L-1', 'Lagging', 'tests', 100, 10)`);
    await admin.end();
    await pair.waitForReplay();
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await pair?.destroy();
  });

  it('leaves rotation within one sampling period of its lag passing the bound; reads move to the primary; it rejoins', async () => {
    const admin = await pair.admin('primary');
    try {
      await pair.pauseReplay();
      await admin.query(`update products set stock = 9 where sku = 'L-1'`);
      // The replica lacks this write from now on: its lag passes the bound MAX_LAG_MS from now.
      const wrote = performance.now();
      // Waiting for the real clock is the point here: the sampler runs on it.
      let left: number | undefined;
      while (left === undefined) {
        const health = await request(`${app.baseUrl}/api/health`);
        if (health.body.replicas[0].inRotation === false) left = performance.now();
        else await admin.query('select pg_sleep(0.01)');
      }
      const afterBound = left - wrote - MAX_LAG_MS;
      console.info(
        `replica left rotation ${Math.round(afterBound)} ms after its lag passed ${MAX_LAG_MS} ms (sampling every ${SAMPLE_MS} ms)`,
      );
      // One period, plus the time one sample itself takes on a busy 2-core machine.
      expect(afterBound).toBeLessThanOrEqual(SAMPLE_MS + 100);
      expect((await request(`${app.baseUrl}/api/health`)).body.replicas[0]).toMatchObject({ inRotation: false, reason: 'lag' });
      expect(app.logs.lines.filter((l) => l.msg === 'replica left read rotation')).toHaveLength(1);

      const before = await readsByTarget(app);
      const read = await request<{ items: { stock: number }[] }>(`${app.baseUrl}/api/products?limit=5`);
      expect(read.body.items.map((p) => p.stock)).toEqual([9]);
      expect(delta(await readsByTarget(app), before)).toEqual({ 'primary/lag': 1 });

      await pair.resumeReplay();
      await pair.waitForReplay();
      while ((await request(`${app.baseUrl}/api/health`)).body.replicas[0].inRotation !== true) await admin.query('select pg_sleep(0.01)');
      expect(app.logs.lines.filter((l) => l.msg === 'replica joined read rotation')).toHaveLength(2); // at start, and now
    } finally {
      await admin.end();
    }
  }, 60_000);
});
