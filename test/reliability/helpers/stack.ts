/**
 * Holdfast as the fault suites run it: the real composition root
 * (src/app.ts), in-process, on 127.0.0.1 and a free port, against a
 * Postgres the suite owns and may restart, with the suite's own fixtures.
 *
 * Settings a client would meet in production stay at their defaults
 * (adaptive limit, cache, profiler); the few that differ are set here or by
 * the suite, each for a stated reason.
 */
import { startHoldfast, type Holdfast } from '../../../src/app.ts';
import { loadConfig, type Config } from '../../../src/config/index.ts';
import { captureLogs, type CapturedLogs } from '../../helpers/logs.ts';
import { insertCustomer, insertProduct } from '../../helpers/store-fixtures.ts';
import type { Shot } from './load.ts';
import { startRestartablePostgres, type RestartablePostgres } from './postgres.ts';

/**
 * A write key. Another suite may turn on API-key authentication for
 * writes; configuring one and always sending it keeps these suites valid
 * either way. Letters and digits only, so the rate limiter reads it as a
 * bearer token too.
 */
export const WRITE_API_KEY = 'reliabilitysuitekey0123456789';

/** Headers for a read that needs a key (customers and their orders). */
export const READ_HEADERS: Readonly<Record<string, string>> = Object.freeze({ authorization: `Bearer ${WRITE_API_KEY}` });

/** Headers for a JSON write. */
export const WRITE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  authorization: `Bearer ${WRITE_API_KEY}`,
});

/**
 * The environment every suite starts from, for the in-process app and the
 * child process alike.
 *
 * @example
 * loadConfig(baseEnvironment(postgres.url, { DB_POOL_TIMEOUT: '3' }));
 */
export function baseEnvironment(databaseUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    SEED_DEMO: 'false',
    CURSOR_SECRET: 'reliability-cursor-secret',
    API_KEYS: `test:${WRITE_API_KEY}:write`,
    // A single client sends all the load; the Redis suite turns limiting on with a high limit.
    RATE_LIMIT_ENABLED: 'false',
    // Event-loop shedding has its own suite. On a shared 2-core CI runner a
    // scheduling stall must not turn a database-fault test into 503 OVERLOADED.
    EVENT_LOOP_DELAY_WARN_MS: '60000',
    EVENT_LOOP_DELAY_MAX_MS: '60000',
    // Likewise CoDel and the high reserve (test/http/overload.test.ts): these suites
    // assert how a database fault is answered, and a queue standing behind the
    // fault would otherwise shed the low and normal reads they count.
    POOL_CODEL_ENABLED: 'false',
    POOL_HIGH_RESERVE: '0',
    ...overrides,
  };
}

/**
 * A `POST /api/orders` shot, with the write key and, when given, an Idempotency-Key.
 *
 * @example
 * await fire(orderShot(base, { customerId, items: [{ productId, quantity: 1 }] }, 'key-1'));
 */
export function orderShot(
  base: string,
  order: { customerId: number; items: { productId: number; quantity: number }[] },
  idempotencyKey?: string,
  label = 'order',
): Shot {
  const headers: Record<string, string> = { ...WRITE_HEADERS };
  if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
  return { label, url: `${base}/api/orders`, init: { method: 'POST', headers, body: JSON.stringify(order) } };
}

/** A started service over its own Postgres, with fixtures. */
export interface Stack {
  postgres: RestartablePostgres;
  app: Holdfast;
  config: Config;
  /** e.g. http://127.0.0.1:41234 */
  base: string;
  logs: CapturedLogs;
  /** Every statement that failed in the pool, with its driver error, in order. */
  failedStatements: { text: string; error: unknown }[];
  /** Stops the service, then the database, and deletes it. Idempotent. */
  close(): Promise<void>;
}

/**
 * @example
 * const stack = await startStack({ DB_POOL_TIMEOUT: '3' });
 * afterAll(() => stack.close());
 */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const postgres = await startRestartablePostgres();
  const logs = captureLogs('info');
  const failedStatements: Stack['failedStatements'] = [];
  let app: Holdfast;
  let config: Config;
  try {
    config = loadConfig(baseEnvironment(postgres.url, env));
    app = await startHoldfast(config, logs.logger, {
      onQuery: (event) => {
        if (event.error !== undefined) failedStatements.push({ text: event.statement.text, error: event.error });
      },
    });
  } catch (err) {
    await postgres.destroy();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    postgres,
    app,
    config,
    base: app.url,
    logs,
    failedStatements,
    close: () =>
      (closing ??= (async () => {
        try {
          await app.stop();
        } finally {
          await postgres.destroy();
        }
      })()),
  };
}

/** Ids of the rows a suite works on, and the stock each product started with. */
export interface Store {
  products: number[];
  customers: number[];
  initialStock: Map<number, number>;
}

/**
 * Inserts `products` products with `stock` each and `customers` customers.
 *
 * @example
 * const store = await seedStore(stack, { products: 20, customers: 10, stock: 1_000_000 });
 */
export async function seedStore(stack: Pick<Stack, 'app'>, counts: { products: number; customers: number; stock: number }): Promise<Store> {
  const products: number[] = [];
  const customers: number[] = [];
  const initialStock = new Map<number, number>();
  for (let i = 0; i < counts.products; i++) {
    const id = await insertProduct(stack.app.pool, { stock: counts.stock, priceCents: 100 + i });
    products.push(id);
    initialStock.set(id, counts.stock);
  }
  for (let i = 0; i < counts.customers; i++) customers.push(await insertCustomer(stack.app.pool));
  return { products, customers, initialStock };
}

/**
 * The value of one Prometheus sample from `/metrics` text, e.g.
 * `holdfast_cache_mode{mode="bypass"}`; undefined when absent.
 *
 * @example
 * metricValue(text, 'holdfast_rate_limit_fallback'); // 0 or 1
 */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${sample} `))
      return Number(
        line
          .slice(sample.length + 1)
          .trim()
          .split(' ')[0],
      );
  }
  return undefined;
}

/**
 * @example
 * const text = await scrape(stack.base);
 */
export async function scrape(base: string): Promise<string> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return await res.text();
}
