/**
 * Promise: SIGTERM under load is a clean stop. Requests in flight when the
 * signal arrives complete (even ones stuck in the database at that moment),
 * the process exits 0, and no order is lost or half-written: afterwards
 * every order has its lines, every order answered 201 is in the database,
 * and for every product initial stock − current stock = SUM(order_items.quantity).
 *
 * The process itself is under test, so it runs as `npm start` runs it
 * (node with the tsx loader, src/main.ts), against a Postgres this suite owns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrations/migrate.ts';
import { createLogger } from '../../src/log/logger.ts';
import { insertCustomer, insertProduct } from '../helpers/store-fixtures.ts';
import { acknowledgedOrders, expectStoreConsistent } from './helpers/invariants.ts';
import { describeOutcome, fire, pause, startLoad, stopAllLoads, tally, waitFor, type Outcome } from './helpers/load.ts';
import { appBackendsWaitingOnLocks, queryable, startRestartablePostgres, type RestartablePostgres } from './helpers/postgres.ts';
import { baseEnvironment, orderShot } from './helpers/stack.ts';
import { SERVICE_FROM_SOURCES } from '../helpers/tsx.ts';

/** Orders stuck behind a row lock when the signal arrives. */
const STUCK = 4;
/** How long they stay stuck after the signal: well inside SHUTDOWN_TIMEOUT_MS. */
const HELD_AFTER_SIGNAL_MS = 700;
/** What a client may see when it connects while (or after) the server closes: nothing was processed. */
const CONNECTION_REFUSALS = /ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|other side closed|socket hang up|fetch failed/i;

let postgres: RestartablePostgres;
let admin: pg.Client;
let child: ChildProcess | undefined;
const products: number[] = [];
const customers: number[] = [];
let stuckProduct: number;
const initialStock = new Map<number, number>();

beforeAll(async () => {
  postgres = await startRestartablePostgres();
  await runMigrations(postgres.url, createLogger('silent'));
  admin = await postgres.admin();
  const db = queryable(admin);
  for (let i = 0; i < 8; i++) {
    const id = await insertProduct(db, { stock: 1_000_000, priceCents: 250 + i });
    products.push(id);
    initialStock.set(id, 1_000_000);
  }
  stuckProduct = await insertProduct(db, { stock: 100, priceCents: 999 });
  initialStock.set(stuckProduct, 100);
  for (let i = 0; i < 8; i++) customers.push(await insertCustomer(db));
}, 120_000);

afterEach(stopAllLoads);

afterAll(async () => {
  // Only the process this suite started, by its PID.
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  await admin?.end();
  await postgres?.destroy();
});

interface Running {
  url: string;
  lines: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startProcess(env: Record<string, string>): Promise<Running> {
  const started = spawn(process.execPath, [...SERVICE_FROM_SOURCES, resolve('src/main.ts')], {
    env: { PATH: process.env.PATH ?? '', ...baseEnvironment(postgres.url, env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = started;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    started.once('exit', (code, signal) => done({ code, signal })),
  );
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  started.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no 'holdfast listening' line within 60 s; stderr: ${stderr}`)), 60_000);
    createInterface({ input: started.stdout }).on('line', (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { raw: line };
      }
      lines.push(parsed);
      if (parsed.msg === 'holdfast listening') {
        clearTimeout(timer);
        done(String(parsed.url));
      }
    });
    // The service logs its fatal error to stdout (pino): the last lines say why it stopped.
    void exited.then(({ code }) =>
      fail(new Error(`exited with ${code} before listening; stderr: ${stderr}; last lines: ${JSON.stringify(lines.slice(-5))}`)),
    );
  });
  return { url, lines, exited };
}

describe('SIGTERM under load', () => {
  it('completes in-flight requests, exits 0, and leaves no order lost or half-written', async () => {
    const app = await startProcess({ DB_POOL_MIN: '2', DB_POOL_MAX: '10', SHUTDOWN_TIMEOUT_MS: '15000' });
    const origin = performance.now();

    // Orders from 20 concurrent clients, one or two lines each.
    const load = startLoad({
      concurrency: 20,
      maxDurationMs: 60_000,
      next: (n) => {
        const first = products[n % products.length]!;
        const second = products[(n * 3 + 1) % products.length]!;
        const items =
          first === second || n % 2 === 0
            ? [{ productId: first, quantity: 1 + (n % 3) }]
            : [
                { productId: first, quantity: 1 },
                { productId: second, quantity: 2 },
              ];
        return orderShot(app.url, { customerId: customers[n % customers.length]!, items }, `sigterm-${n}`);
      },
    });
    await waitFor('orders being placed', () => load.outcomes.filter((o) => o.status === 201).length >= 30, 30_000);

    // A few orders caught inside their transaction, waiting on a row lock, when the signal arrives.
    await admin.query('BEGIN');
    await admin.query('SELECT stock FROM products WHERE id = $1 FOR UPDATE', [stuckProduct]);
    let stuck: Outcome[];
    let signalled: number;
    try {
      const pending = Array.from({ length: STUCK }, (_, i) =>
        fire(
          orderShot(
            app.url,
            { customerId: customers[i]!, items: [{ productId: stuckProduct, quantity: 1 }] },
            `sigterm-stuck-${i}`,
            'stuck',
          ),
        ),
      );
      await appBackendsWaitingOnLocks(admin, STUCK);
      signalled = performance.now();
      process.kill(child!.pid!, 'SIGTERM');
      await pause(HELD_AFTER_SIGNAL_MS);
      await admin.query('ROLLBACK');
      stuck = await Promise.all(pending);
    } catch (err) {
      await admin.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    const { code, signal } = await app.exited;
    const exitedAt = performance.now();
    const outcomes = await load.stop();

    // The process stopped by itself, cleanly, and said so.
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(app.lines.some((l) => l.msg === 'holdfast stopped')).toBe(true);
    expect(exitedAt - signalled).toBeGreaterThanOrEqual(HELD_AFTER_SIGNAL_MS - 50);

    // In flight at the signal, stuck in the database: all completed.
    expect(stuck.map((o) => `${o.status} ${o.code ?? o.error ?? ''}`)).toEqual(Array(STUCK).fill('201 '));

    // Under load: served, refused on purpose, or (only once the server was closing) not connected.
    const served = outcomes.filter((o) => o.status !== 0);
    expect(
      served.filter((o) => ![201, 409, 503].includes(o.status)).map((o) => describeOutcome(o, origin)),
      tally(outcomes),
    ).toEqual([]);
    expect(served.filter((o) => o.status === 503 && !(Number(o.retryAfter) >= 1)).map((o) => describeOutcome(o, origin))).toEqual([]);
    const cut = outcomes.filter((o) => o.status === 0);
    expect(
      cut.filter((o) => o.endedAt < signalled || !CONNECTION_REFUSALS.test(o.error ?? '')).map((o) => describeOutcome(o, origin)),
    ).toEqual([]);
    expect(served.filter((o) => o.startedAt < signalled && o.status === 201).length).toBeGreaterThanOrEqual(30);
    // The load really ran into the shutdown.
    expect(outcomes.filter((o) => o.startedAt > signalled).length).toBeGreaterThan(0);

    // The database: every acknowledged order whole, stock accounted for, nothing else written.
    const acknowledged = acknowledgedOrders([...outcomes, ...stuck]);
    const orders = await expectStoreConsistent(admin, initialStock, acknowledged);
    expect(orders, 'orders in the database vs orders answered 201').toBe(acknowledged.length);
    const taken = await admin.query<{ stock: number }>('SELECT stock FROM products WHERE id = $1', [stuckProduct]);
    expect(taken.rows[0]!.stock).toBe(100 - STUCK);
  }, 90_000);
});
