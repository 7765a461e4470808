/**
 * The pool over a multi-host URL against a real primary and standby
 * (test/helpers/replication.ts): a write answered 25006 (the primary turned
 * read-only, as a demoted one is) is a 503 DB_UNAVAILABLE that marks the host
 * lost and evicts its connections; while no host matches, acquires are held
 * (not failed) up to their own bound, then get DB_UNAVAILABLE; once a host
 * matches again the held write goes through.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { requestContext } from '../../../src/context/context.ts';
import { createHostsFromUrl, type HostSelector } from '../../../src/db/hosts/selector.ts';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { isAppError, type AppError } from '../../../src/errors/app-error.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { TEST } from '../../helpers/context.ts';
import { replicationBinaries, startReplicatedPostgres, type ReplicatedPostgres } from '../../helpers/replication.ts';

const binaries = replicationBinaries();
if (binaries === undefined) {
  if (process.env.CI === 'true') throw new Error('Debian PostgreSQL binaries (pg_basebackup) are required under CI');
  console.warn('\n*** SKIPPING test/db/hosts/failover.test.ts: no /usr/lib/postgresql/<major>/bin with pg_basebackup ***\n');
}

const INSERT = { text: 'insert into t (v) values (1)' };

describe.skipIf(binaries === undefined)('pool failover on real servers', () => {
  let pair: ReplicatedPostgres;
  let admin: pg.Client;
  let hosts: HostSelector;
  let pool: ConnectionPool;

  beforeAll(async () => {
    pair = await startReplicatedPostgres();
    admin = await pair.admin('primary');
    await admin.query('create table t (id serial primary key, v int not null)');
    const url = `postgres://postgres@127.0.0.1:${pair.primary.port},127.0.0.1:${pair.standby.port}/postgres?target_session_attrs=read-write`;
    hosts = createHostsFromUrl(url, createLogger('silent'))!;
    // connectTimeoutMs well under acquireTimeoutMs: a connect giving up on the missing primary must not fail the waiters.
    pool = createPool(testPoolOptions(url, { hosts, min: 2, max: 4, acquireTimeoutMs: 10_000, connectTimeoutMs: 1000 }));
    await pool.start();
  }, 60_000);

  afterAll(async () => {
    await pool?.end(0);
    hosts?.stop();
    await admin?.end().catch(() => undefined);
    await pair?.destroy();
  });

  it('answers 25006 with DB_UNAVAILABLE, evicts the host, holds writes past a failed connect, then serves them', async () => {
    await pool.query(TEST, INSERT);
    expect(pool.size).toBe(2);
    const generation = hosts.generation();

    await admin.query('alter system set default_transaction_read_only = on');
    await admin.query('select pg_reload_conf()');
    // A backend idle at the reload applies it after its next command: a write or two may still pass.
    let refused: unknown;
    for (let i = 0; i < 10 && refused === undefined; i++) await pool.query(TEST, INSERT).catch((err: unknown) => (refused = err));
    expect(isAppError(refused, 'DB_UNAVAILABLE')).toBe(true);
    expect((refused as AppError).extras.retryAfterSeconds).toBeGreaterThan(0);
    expect(hosts.generation()).toBe(generation + 1);
    expect(pool.size).toBe(0); // every connection to the demoted host is gone, idle ones at once

    // No host matches now (the primary is read-only, the other a standby): a short-bounded write gets a 503.
    const short = requestContext('short', 'POST /t', { deadline: performance.now() + 300 });
    const late = await pool.query(short, INSERT).catch((err: unknown) => err);
    expect(isAppError(late, 'DB_UNAVAILABLE')).toBe(true);

    // A write bounded by the 10 s pool timeout is held, and stays held after a connect gave up waiting for a host.
    let settled = false;
    const errorsBefore = pool.counters.connectErrors;
    const held = pool.query(TEST, INSERT).finally(() => (settled = true));
    await vi.waitFor(() => expect(pool.counters.connectErrors).toBeGreaterThan(errorsBefore), { timeout: 5000, interval: 50 });
    expect(settled).toBe(false);
    expect(pool.waiting).toBe(1);

    await admin.query('alter system reset default_transaction_read_only');
    await admin.query('select pg_reload_conf()');
    await expect(held).resolves.toMatchObject({ rowCount: 1 });
    expect(hosts.current()?.label).toBe(`127.0.0.1:${pair.primary.port}`);
    expect(pool.counters.held).toBeGreaterThanOrEqual(2);
    expect(pool.counters.holdWait.snapshot().count).toBeGreaterThanOrEqual(2);
    expect(hosts.failovers()).toBe(0); // the same host came back: no failover
  }, 30_000);
});
