/**
 * Contender (b): bare Fastify over `pg.Pool` with 5 connections and named
 * prepared statements: the hand-tuned floor (BASELINES.md's fastest
 * Fastify + pg row). It runs Holdfast's own statements and has none of its
 * guards: no rate limit, no shedding, no bounded queue, no problem+json.
 *
 * Routes: health, product by id, customer orders, and the product list by
 * keyset (`after=<createdAt>,<id>`) or by OFFSET (`offset=N`), so deep pages
 * can be compared both ways.
 *
 * @example
 * // DATABASE_URL=… node dist/bench/peers/fastify-pg.js --port 0 --pool-max 5
 */
import Fastify from 'fastify';
import pg from 'pg';
import { announce, peerFlags, positiveId } from './peer-runtime.ts';
import { CUSTOMER_ORDERS_PAGE, FIRST_PAGE, PRODUCT_BY_ID, PRODUCTS_AFTER, PRODUCTS_OFFSET } from './peer-sql.ts';

const flags = peerFlags(process.argv.slice(2), { poolMax: 5 });
const pool = new pg.Pool({ connectionString: flags.databaseUrl, max: flags.poolMax });
pool.on('error', () => undefined); // an idle client's error; the next query reports it

const app = Fastify({ logger: false });

app.get('/api/health', async () => ({ status: 'ok', pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } }));

app.get<{ Params: { id: string } }>('/api/products/:id', async (request, reply) => {
  const id = positiveId(request.params.id);
  if (id === undefined) return reply.code(400).send({ error: 'bad id' });
  const { rows } = await pool.query({ name: 'products-get', text: PRODUCT_BY_ID, values: [id] });
  return rows[0] ?? reply.code(404).send({ error: 'not found' });
});

app.get<{ Params: { id: string } }>('/api/customers/:id/orders', async (request, reply) => {
  const id = positiveId(request.params.id);
  if (id === undefined) return reply.code(400).send({ error: 'bad id' });
  const { rows } = await pool.query({
    name: 'customers-orders-page',
    text: CUSTOMER_ORDERS_PAGE,
    values: [id, FIRST_PAGE.createdAt, FIRST_PAGE.id, 21],
  });
  return { items: rows.slice(0, 20), more: rows.length > 20 };
});

app.get<{ Querystring: { limit?: string; after?: string; offset?: string } }>('/api/products', async (request) => {
  const limit = Math.min(100, Number(request.query.limit ?? 20));
  if (request.query.offset !== undefined) {
    const { rows } = await pool.query({ name: 'products-offset', text: PRODUCTS_OFFSET, values: [limit, Number(request.query.offset)] });
    return { items: rows };
  }
  const [createdAt, id] = request.query.after?.split(',') ?? [FIRST_PAGE.createdAt, FIRST_PAGE.id];
  const { rows } = await pool.query({ name: 'products-after', text: PRODUCTS_AFTER, values: [createdAt, id, limit] });
  return { items: rows };
});

await app.listen({ host: '127.0.0.1', port: flags.port });
const address = app.server.address();
announce(`http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : flags.port}`, async () => {
  await app.close();
  await pool.end();
});
