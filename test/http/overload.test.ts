/**
 * Overload control over HTTP (issue 15): route priorities and the RFC 9218
 * `Priority` header decide who gets the next connection, and CoDel sheds
 * normal and low requests with 503 POOL_OVERLOADED once the queue's delay
 * has stood above its target, then recovers. The pool has one connection;
 * slowness is a lock on `products` held by another session, and every step
 * waits for an observed state (statements waiting on the lock, requests
 * queued, a metric), never for a fixed time.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY_TABLE, parsePriorityTable, type PriorityRule } from '../../src/context/priority.ts';
import { contextOf } from '../../src/http/context.ts';
import { queryProfilerPlugin } from '../../src/profiler/request-plugin.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';

async function until(condition: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A session holding `products` locked until `release()`. */
async function lockProducts(url: string): Promise<{ release(): Promise<void> }> {
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE products IN ACCESS EXCLUSIVE MODE');
  let released: Promise<void> | undefined;
  return { release: () => (released ??= locker.query('ROLLBACK').then(() => locker.end())) };
}

/** Statements of the app's database waiting on a lock. */
async function waitingOnLock(admin: pg.Client): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()",
  );
  return rows[0]!.n;
}

describe('the priority a request runs at', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  const table = (parsePriorityTable(DEFAULT_PRIORITY_TABLE) as { ok: true; value: readonly PriorityRule[] }).value;

  beforeAll(async () => {
    app = Fastify();
    await app.register(
      async function api(scope) {
        await scope.register(queryProfilerPlugin({ requestFinished: () => {} }, { priorities: table }));
        const echo = async (request: Parameters<typeof contextOf>[0]) => ({ priority: contextOf(request).priority });
        scope.get('/products/:id', echo);
        scope.get('/products', echo);
        scope.post('/orders', echo);
        scope.get('/ready', echo);
      },
      { prefix: '/api' },
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });
  afterAll(() => app?.close());

  const priorityOf = async (method: string, path: string, header?: string): Promise<string> => {
    const res = await fetch(`${baseUrl}${path}`, { method, headers: header === undefined ? {} : { priority: header } });
    return ((await res.json()) as { priority: string }).priority;
  };

  it.each([
    ['GET', '/api/products/7', undefined, 'normal'],
    ['GET', '/api/products', undefined, 'low'],
    ['POST', '/api/orders', undefined, 'high'],
    ['GET', '/api/ready', undefined, 'critical'],
    ['GET', '/api/products/7', 'u=7', 'low'], // a client may lower itself
    ['GET', '/api/products/7', 'u=5, i', 'low'],
    ['POST', '/api/orders', 'u=3', 'normal'],
    ['GET', '/api/products/7', 'u=0', 'normal'], // never raise
    ['GET', '/api/products', 'u=1', 'low'],
    ['GET', '/api/products/7', 'u=9', 'normal'], // malformed: ignored (RFC 9218 §4)
    ['POST', '/api/orders', 'u=low', 'high'],
    ['POST', '/api/orders', '{u=7}', 'high'],
  ])('%s %s with Priority %s runs at %s', async (method, path, header, expected) => {
    expect(await priorityOf(method, path, header)).toBe(expected);
  });
});

describe('priority order at the pool, over HTTP', () => {
  let app: TestApp;
  let admin: pg.Client;
  let productId: number;
  let customerId: number;
  let lock: { release(): Promise<void> } | undefined;

  beforeAll(async () => {
    // One connection and no CoDel: only the order of the queue is under test.
    app = await startTestApp({ env: { DB_POOL_MIN: '1', DB_POOL_MAX: '1', CACHE_ENABLED: 'false', POOL_CODEL_ENABLED: 'false' } });
    productId = await insertProduct(app.pool, { stock: 1_000_000 });
    customerId = await insertCustomer(app.pool);
    admin = new pg.Client({ connectionString: app.database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await app?.close();
  });
  afterEach(async () => {
    await lock?.release();
    lock = undefined;
  });

  type Kind = 'list' | 'order' | 'get';
  const send: Record<Kind, (priority?: string) => Promise<Response>> = {
    list: (priority) => fetch(`${app.baseUrl}/api/products`, { headers: priority === undefined ? {} : { priority } }),
    get: (priority) => fetch(`${app.baseUrl}/api/products/${productId}`, { headers: priority === undefined ? {} : { priority } }),
    order: (priority) =>
      fetch(`${app.baseUrl}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(priority === undefined ? {} : { priority }) },
        body: JSON.stringify({ customerId, items: [{ productId, quantity: 1 }] }),
      }),
  };
  /** Which request a statement belongs to, or undefined for the rest (BEGIN, COMMIT, …). */
  const kindOf = (text: string): Kind | undefined =>
    /ORDER BY products\.created_at/.test(text)
      ? 'list'
      : /^UPDATE products SET stock/.test(text)
        ? 'order'
        : /FROM products WHERE id/.test(text)
          ? 'get'
          : undefined;

  /**
   * Holds the one connection with a low list blocked on the lock, queues
   * `queued` in that order, releases the lock and returns the order in which
   * their statements ran (the one connection serves them one at a time).
   */
  async function servedOrder(queued: [Kind, string?][]): Promise<Kind[]> {
    lock = await lockProducts(app.database.url);
    const first = send.list();
    await until(async () => (await waitingOnLock(admin)) === 1);
    const before = app.statements().length;
    const rest: Promise<Response>[] = [];
    for (const [kind, priority] of queued) {
      rest.push(send[kind](priority));
      await until(() => app.pool.waiting === rest.length); // queued, in this order
    }
    await lock.release();
    const answers = await Promise.all([first, ...rest]);
    expect(answers.map((r) => r.status)).toEqual(['list', ...queued.map(([k]) => k)].map((k) => (k === 'order' ? 201 : 200)));
    return app
      .statements()
      .slice(before)
      .map(kindOf)
      .filter((k): k is Kind => k !== undefined);
  }

  it('serves a queued high request (an order) before low ones queued earlier', async () => {
    expect(await servedOrder([['list'], ['list'], ['order']])).toEqual(['list', 'order', 'list', 'list']);
  });

  it('an order lowered by `Priority: u=7` waits its turn behind the lists', async () => {
    expect(await servedOrder([['list'], ['list'], ['order', 'u=7']])).toEqual(['list', 'list', 'list', 'order']);
  });

  it('serves a queued normal request (a point read) before low ones (lists) queued earlier', async () => {
    expect(await servedOrder([['list'], ['get']])).toEqual(['list', 'get', 'list']);
  });

  it('`Priority: u=0` does not raise a list above the point read queued before it', async () => {
    expect(await servedOrder([['get'], ['list', 'u=0']])).toEqual(['list', 'get', 'list']);
  });

  it('ignores a malformed Priority header: the order keeps its class', async () => {
    expect(await servedOrder([['list'], ['order', 'u=high']])).toEqual(['list', 'order', 'list']);
  });
});

describe('the high reserve over HTTP', () => {
  let app: TestApp;
  let admin: pg.Client;

  beforeAll(async () => {
    // Two connections, one kept for high: max(1, 0.5 × 2).
    app = await startTestApp({
      env: { DB_POOL_MIN: '2', DB_POOL_MAX: '2', CACHE_ENABLED: 'false', POOL_CODEL_ENABLED: 'false', POOL_HIGH_RESERVE: '0.5' },
    });
    admin = new pg.Client({ connectionString: app.database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await app?.close();
  });

  it('keeps a connection for an order while reads queue for the other', async () => {
    const productId = await insertProduct(app.pool, { stock: 100 });
    const customerId = await insertCustomer(app.pool);
    const lock = await lockProducts(app.database.url);
    // Lists, not point reads: concurrent point reads may share one batched statement.
    const reads = [1, 2, 3].map((n) => fetch(`${app.baseUrl}/api/products?limit=${n}`));
    let order: Promise<Response> | undefined;
    try {
      await until(async () => (await waitingOnLock(admin)) === 1 && app.pool.waiting > 0); // one list holds the only connection the others may use
      expect(app.pool.active).toBe(1);
      order = fetch(`${app.baseUrl}/api/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customerId, items: [{ productId, quantity: 1 }] }),
      });
      // The order takes the reserved connection at once: its statement reaches the lock too.
      await until(async () => (await waitingOnLock(admin)) === 2);
      expect(app.pool.active).toBe(2);
    } finally {
      await lock.release();
    }
    expect((await order)?.status).toBe(201);
    expect((await Promise.all(reads)).map((r) => r.status)).toEqual([200, 200, 200]);
  });
});

describe('CoDel over HTTP', () => {
  let app: TestApp;
  let admin: pg.Client;
  let productId: number;
  let customerId: number;

  beforeAll(async () => {
    app = await startTestApp({
      env: {
        DB_POOL_MIN: '1',
        DB_POOL_MAX: '1',
        CACHE_ENABLED: 'false',
        POOL_CODEL_ENABLED: 'true',
        POOL_CODEL_TARGET_MS: '5',
        POOL_CODEL_INTERVAL_MS: '50',
      },
    });
    productId = await insertProduct(app.pool, { stock: 1_000_000 });
    customerId = await insertCustomer(app.pool);
    admin = new pg.Client({ connectionString: app.database.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await app?.close();
  });

  async function metric(name: string, labels = ''): Promise<number> {
    const text = await (await fetch(`${app.baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line === undefined ? NaN : Number(line.split(' ').at(-1));
  }
  const get = (priority?: string) =>
    fetch(`${app.baseUrl}/api/products/${productId}`, { headers: priority === undefined ? {} : { priority } });
  const order = () =>
    fetch(`${app.baseUrl}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customerId, items: [{ productId, quantity: 1 }] }),
    });

  it('sheds normal and low requests with 503 POOL_OVERLOADED and Retry-After once the wait stood above target, keeps high, and recovers', async () => {
    const lock = await lockProducts(app.database.url);
    const held: Promise<Response>[] = [get()];
    try {
      await until(async () => (await waitingOnLock(admin)) === 1);
      // Orders are high: always admitted, they queue behind the lock; each new waiter shows CoDel the queue's delay.
      await until(async () => {
        held.push(order());
        await until(() => app.pool.waiting === held.length - 1);
        return (await metric('holdfast_db_pool_codel_dropping')) === 1;
      });
      expect(await metric('holdfast_db_pool_lifo')).toBe(1);
      expect(await metric('holdfast_db_pool_queue_delay_seconds')).toBeGreaterThanOrEqual(0.005);

      const shedBefore = await metric('holdfast_db_pool_shed_total', '{priority="low",reason="codel"}');
      const refused = await get();
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await refused.json()) as { code: string }).code).toBe('POOL_OVERLOADED');
      expect(await metric('holdfast_db_pool_shed_total', '{priority="normal",reason="codel"}')).toBeGreaterThanOrEqual(1);
      // The same route lowered by its client is shed as low.
      expect((await get('u=7')).status).toBe(503);
      expect(await metric('holdfast_db_pool_shed_total', '{priority="low",reason="codel"}')).toBe(shedBefore + 1);
      // High is still admitted while CoDel drops.
      held.push(order());
      await until(() => app.pool.waiting === held.length - 1);
    } finally {
      await lock.release();
    }
    const statuses = (await Promise.all(held)).map((r) => r.status);
    expect(statuses[0]).toBe(200);
    expect(new Set(statuses.slice(1))).toEqual(new Set([201]));
    // Recovered: the queue drained, the next point read is served.
    expect((await get()).status).toBe(200);
    expect(await metric('holdfast_db_pool_codel_dropping')).toBe(0);
    expect(await metric('holdfast_db_pool_queue_delay_seconds')).toBe(0);
  });
});
