/**
 * `npx tsx bench/query-tuning/n-plus-one.ts <database-url> <port>`
 *
 * A customer's order history two ways, served side by side so that only the
 * queries differ:
 *
 *   GET /joined/customers/:id/orders?limit=N  the store's one json_agg statement
 *   GET /naive/customers/:id/orders?limit=N   the page of orders, then one query per order for its lines (1 + N)
 *
 * Both run on the same pg.Pool (max 10), as named prepared statements, on a
 * bare node:http server: no Holdfast guards, so the difference is the query
 * pattern. Each answer carries Server-Timing in Holdfast's format
 * (`db;dur=…;desc="n queries"`), which load.ts reads. The naive version
 * lives here, never in src/: it exists to be measured against.
 *
 * Stop it with SIGTERM (kill <pid>).
 */
import { createServer, type ServerResponse } from 'node:http';
import pg from 'pg';
import { backgroundContext, type Context } from '../../src/context/context.ts';
import type { Queryable, Rows, Statement } from '../../src/db/types.ts';
import { createCustomerStore } from '../../src/store/customers.ts';
import type { Order } from '../../src/store/orders.ts';
import { KEYSET_START, isoTimestamp } from '../../src/store/sql.ts';

const PAGE = {
  name: 'naive-orders-page',
  text: `SELECT id, customer_id, total_cents, ${isoTimestamp('created_at')} AS created_at
         FROM orders
         WHERE customer_id = $1 AND (created_at, id) < ($2::timestamptz, $3::bigint)
         ORDER BY created_at DESC, id DESC
         LIMIT $4`,
};

const LINES = {
  name: 'naive-order-lines',
  text: `SELECT oi.product_id, pr.name, oi.quantity, oi.unit_price_cents
         FROM order_items oi JOIN products pr ON pr.id = oi.product_id
         WHERE oi.order_id = $1
         ORDER BY oi.product_id`,
};

const EXISTS = { name: 'naive-customer-exists', text: 'SELECT 1 FROM customers WHERE id = $1' };

/** This bench's requests keep their own tally (below), so their statements are charged to no account. */
const BENCH = backgroundContext('n-plus-one bench');

/** Counts and times one request's statements, for Server-Timing. */
interface Tally {
  queries: number;
  dbMs: number;
}

function counted(pool: pg.Pool, tally: Tally): Queryable {
  return {
    async query<R extends pg.QueryResultRow>(_ctx: Context, statement: Statement): Promise<Rows<R>> {
      const started = performance.now();
      try {
        const result = await pool.query<R>({
          name: statement.name,
          text: statement.text,
          values: statement.values ? [...statement.values] : [],
        });
        return { rows: result.rows, rowCount: result.rowCount ?? 0 };
      } finally {
        tally.queries++;
        tally.dbMs += performance.now() - started;
      }
    },
  };
}

/**
 * The 1 + N way: the page, then each order's lines on their own.
 *
 * @example
 * const page = await naiveListOrders(ctx, db, 7, 20); // 21 statements for a full page
 */
export async function naiveListOrders(ctx: Context, db: Queryable, customerId: number, limit: number): Promise<Order[] | undefined> {
  const page = await db.query<{ id: string; customer_id: string; total_cents: string; created_at: string }>(ctx, {
    ...PAGE,
    values: [customerId, KEYSET_START.createdAt, KEYSET_START.id, limit],
  });
  if (page.rows.length === 0 && (await db.query(ctx, { ...EXISTS, values: [customerId] })).rowCount === 0) return undefined;
  const orders: Order[] = [];
  for (const row of page.rows) {
    const lines = await db.query<{ product_id: string; name: string; quantity: number; unit_price_cents: number }>(ctx, {
      ...LINES,
      values: [row.id],
    });
    orders.push({
      id: Number(row.id),
      customerId: Number(row.customer_id),
      totalCents: Number(row.total_cents),
      createdAt: row.created_at,
      items: lines.rows.map((l) => ({
        productId: Number(l.product_id),
        name: l.name,
        quantity: l.quantity,
        unitPriceCents: l.unit_price_cents,
      })),
    });
  }
  return orders;
}

function send(res: ServerResponse, status: number, body: unknown, tally?: Tally): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (tally !== undefined) headers['server-timing'] = `db;dur=${tally.dbMs.toFixed(2)};desc="${tally.queries} queries"`;
  res.writeHead(status, headers).end(JSON.stringify(body));
}

async function main(): Promise<void> {
  const [url, portText] = process.argv.slice(2);
  if (url === undefined || portText === undefined) {
    console.error('usage: n-plus-one.ts <database-url> <port>');
    process.exit(2);
  }
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const route = /^\/(naive|joined)\/customers\/(\d+)\/orders(?:\?limit=(\d+))?$/;
  const server = createServer((req, res) => {
    const match = route.exec(req.url ?? '');
    if (match === null) return send(res, 404, { error: 'no such route' });
    const [, way, id, limitText] = match;
    const limit = Math.min(100, Number(limitText ?? 20));
    const tally: Tally = { queries: 0, dbMs: 0 };
    const db = counted(pool, tally);
    const work =
      way === 'naive'
        ? naiveListOrders(BENCH, db, Number(id), limit)
        : createCustomerStore(db)
            .listOrders(BENCH, Number(id), { limit })
            .then((page) => page?.items);
    work.then(
      (items) => (items === undefined ? send(res, 404, { error: 'no such customer' }, tally) : send(res, 200, { items }, tally)),
      (err: unknown) => send(res, 500, { error: (err as Error).message }, tally),
    );
  });
  server.listen(Number(portText), '127.0.0.1', () => console.log(`n-plus-one bench on http://127.0.0.1:${portText} (pid ${process.pid})`));
  process.once('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void pool.end();
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
