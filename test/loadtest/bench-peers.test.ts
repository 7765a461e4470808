/**
 * Every bench contender serves the same data on the routes the bench calls:
 * the peers and Holdfast, started as the bench starts them, on a small
 * seeded test database. Above all, page N reached by Holdfast's minted
 * cursor, by the floor peer's keyset and by OFFSET is the same page, or
 * the deep-page comparison would compare different work.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDeepPage } from '../../bench/deep-page.ts';
import { pathFor, type DeepPage, type EndpointId, type ServerKind } from '../../bench/endpoints.ts';
import { startContender } from '../../bench/servers.ts';
import type { ChildServer } from '../../scripts/loadtest/child-process.ts';
import { seedStore } from '../../src/db/seed/seed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

const SECRET = 'bench-peers-test-secret';
let db: TestDatabase;
let deep: DeepPage;
const servers = new Map<ServerKind, ChildServer>();

beforeAll(async () => {
  db = await createTestDatabase();
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await seedStore(client, { products: 300, customers: 20, orders: 200 });
  } finally {
    await client.end();
  }
  deep = await findDeepPage(db.url, { page: 5, pageSize: 20, cursorSecret: SECRET });
  for (const kind of ['holdfast', 'fastify-pg', 'express-naive', 'fastify-constant'] as const) {
    // One at a time, as the bench does; small pools, as the test server is shared.
    servers.set(
      kind,
      await startContender(kind, { label: kind, databaseUrl: db.url, env: { DB_POOL_MIN: '1', DB_POOL_MAX: '3' }, cursorSecret: SECRET }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const server of servers.values()) await server.stop();
  await db?.drop();
});

async function get(kind: ServerKind, endpoint: EndpointId): Promise<{ status: number; body: any }> {
  const template = pathFor(kind, endpoint, deep);
  if (template === undefined) throw new Error(`${kind} has no ${endpoint}`);
  const res = await fetch(`${servers.get(kind)!.url}${template.replace('{product}', '7').replace('{customer}', '3')}`);
  return { status: res.status, body: await res.json() };
}

const ids = (items: { id: number | string }[]) => items.map((i) => Number(i.id));

describe('bench contenders', () => {
  it('serve health, including the constant server', async () => {
    for (const kind of servers.keys()) expect((await get(kind, 'health')).status).toBe(200);
  });

  it('serve the same product and the same customer orders', async () => {
    const products = await Promise.all((['holdfast', 'fastify-pg', 'express-naive'] as const).map((k) => get(k, 'product')));
    expect(products.map((p) => p.status)).toEqual([200, 200, 200]);
    expect(products.map((p) => Number(p.body.id))).toEqual([7, 7, 7]);
    expect(products.map((p) => p.body.name)).toEqual([products[0]!.body.name, products[0]!.body.name, products[0]!.body.name]);

    const orders = await Promise.all((['holdfast', 'fastify-pg', 'express-naive'] as const).map((k) => get(k, 'orders')));
    expect(orders.map((o) => o.status)).toEqual([200, 200, 200]);
    expect(new Set(orders.map((o) => JSON.stringify(ids(o.body.items)))).size).toBe(1);
    // The naive peer fetched each order's lines with a query of its own: same lines.
    expect(orders[2]!.body.items[0]?.items.length).toBe(orders[0]!.body.items[0]?.items.length);
  });

  it('reach the same deep page by Holdfast cursor, raw keyset and OFFSET', async () => {
    expect(deep).toMatchObject({ page: 5, offset: 80 });
    const pages = await Promise.all([
      get('holdfast', 'deep'),
      get('fastify-pg', 'deep'),
      get('fastify-pg', 'deep-offset'),
      get('express-naive', 'deep-offset'),
    ]);
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200, 200]);
    const first = ids(pages[0].body.items);
    expect(first).toHaveLength(20);
    for (const p of pages) expect(ids(p.body.items)).toEqual(first);
    const page1 = await Promise.all([get('holdfast', 'page1'), get('fastify-pg', 'page1'), get('express-naive', 'page1')]);
    for (const p of page1) expect(ids(p.body.items)).toEqual(ids(page1[0].body.items));
    expect(ids(page1[0].body.items)).not.toEqual(first);
  });
});
