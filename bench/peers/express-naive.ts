/**
 * Contender (c): the straightforward TypeScript translation of the original
 * Python service. Express, `pg.Pool({ max: 40 })` (the report's Task A1)
 * with no acquire timeout, so a request waits for a connection as long as it
 * takes; unnamed statements; OFFSET pagination; and a customer's orders
 * read the way the original did, one query for the page and one more per
 * order for its lines (the N+1 its Phase B3 was to fix).
 *
 * @example
 * // DATABASE_URL=… node dist/bench/peers/express-naive.js --port 0
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { announce, peerFlags, positiveId } from './peer-runtime.ts';
import { CUSTOMER_ORDERS_OFFSET, ORDER_LINES, PRODUCT_BY_ID, PRODUCTS_OFFSET } from './peer-sql.ts';

const flags = peerFlags(process.argv.slice(2), { poolMax: 40 });
const pool = new pg.Pool({ connectionString: flags.databaseUrl, max: flags.poolMax });
pool.on('error', () => undefined);

const app = express();

app.get('/api/health', (_req, res) => {
  res.json({ status: 'ok' });
});

app.get('/api/products/:id', async (req, res) => {
  const id = positiveId(req.params.id);
  if (id === undefined) return void res.status(400).json({ error: 'bad id' });
  const { rows } = await pool.query(PRODUCT_BY_ID, [id]);
  if (rows[0] === undefined) return void res.status(404).json({ error: 'not found' });
  res.json(rows[0]);
});

app.get('/api/products', async (req, res) => {
  const limit = Math.min(100, Number(req.query.limit ?? 20));
  const offset = Number(req.query.offset ?? 0);
  const { rows } = await pool.query(PRODUCTS_OFFSET, [limit, offset]);
  res.json({ items: rows });
});

app.get('/api/customers/:id/orders', async (req, res) => {
  const id = positiveId(req.params.id);
  if (id === undefined) return void res.status(400).json({ error: 'bad id' });
  const orders = await pool.query(CUSTOMER_ORDERS_OFFSET, [id, 20, 0]);
  const items = [];
  for (const order of orders.rows) {
    const lines = await pool.query(ORDER_LINES, [(order as { id: number }).id]);
    items.push({ ...order, items: lines.rows });
  }
  res.json({ items });
});

const server = app.listen(flags.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  announce(`http://127.0.0.1:${port}`, async () => {
    await new Promise<void>((done) => server.close(() => done()));
    await pool.end();
  });
});
