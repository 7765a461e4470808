/**
 * The one bootstrap (server → migrations → seed) that the service, the seed
 * script, the load test and the bench share: each seed plan puts in what it
 * says and nothing more, and a missing database is created on request.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { NO_SEED, DEMO_SEED, countRows, prepareDatabase, withClient } from '../../src/db/bootstrap.ts';
import { DEMO_COUNTS } from '../../src/db/seed/seed.ts';
import { createLogger } from '../../src/log/logger.ts';
import { createTestDatabase, withDatabase, type TestDatabase } from '../helpers/database.ts';

const logger = createLogger('silent');
const small = { products: 30, customers: 10, orders: 20 };

describe('prepareDatabase from a URL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db?.drop());

  it('migrates an empty database and seeds nothing with NO_SEED', async () => {
    const ready = await prepareDatabase({ source: { kind: 'url', url: db.url }, seed: NO_SEED, logger });
    expect(ready).toMatchObject({ url: db.url, embedded: false });
    expect(await withClient(db.url, countRows)).toEqual({ products: 0, customers: 0, orders: 0 });
    const versions = await withClient(db.url, (c) => c.query('SELECT count(*)::int AS n FROM schema_migrations'));
    expect(versions.rows[0].n).toBeGreaterThan(0);
    await ready.stop(); // nothing to stop for a URL; must not throw
  });

  it('seeds the demo store once, only while the store is empty', async () => {
    await prepareDatabase({ source: { kind: 'url', url: db.url }, seed: DEMO_SEED, logger });
    await prepareDatabase({ source: { kind: 'url', url: db.url }, seed: DEMO_SEED, logger });
    expect(await withClient(db.url, countRows)).toEqual({ ...DEMO_COUNTS });
  });

  it('tops up to the wanted counts, and adds them in add mode', async () => {
    await withClient(db.url, (c) => c.query('TRUNCATE order_items, orders, customers, products RESTART IDENTITY CASCADE'));
    await prepareDatabase({ source: { kind: 'url', url: db.url }, seed: { kind: 'rows', mode: 'top-up', counts: small }, logger });
    await prepareDatabase({ source: { kind: 'url', url: db.url }, seed: { kind: 'rows', mode: 'top-up', counts: small }, logger });
    expect(await withClient(db.url, countRows)).toEqual(small);
    await prepareDatabase({ source: { kind: 'url', url: db.url }, seed: { kind: 'rows', mode: 'add', counts: small }, logger });
    expect(await withClient(db.url, countRows)).toEqual({ products: 60, customers: 20, orders: 40 });
  });
});

describe('prepareDatabase with createIfMissing', () => {
  const adminUrl = inject('databaseAdminUrl');
  const name = `holdfast_test_boot_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  });

  it('creates the database, then migrates it', async () => {
    const url = withDatabase(adminUrl, name);
    await expect(withClient(url, countRows)).rejects.toMatchObject({ code: '3D000' });
    await prepareDatabase({ source: { kind: 'url', url, createIfMissing: true }, seed: NO_SEED, logger });
    expect(await withClient(url, countRows)).toEqual({ products: 0, customers: 0, orders: 0 });
  });

  it('fails with the server’s error when the database is missing and creation was not asked for', async () => {
    const url = withDatabase(adminUrl, `${name}_absent`);
    await expect(prepareDatabase({ source: { kind: 'url', url }, seed: NO_SEED, logger })).rejects.toBeInstanceOf(pg.DatabaseError);
  });
});
