import { afterAll, describe, expect, inject, it } from 'vitest';
import { createHostsFromUrl } from '../../../src/db/hosts/selector.ts';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { freePort } from '../../../src/net/free-port.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { TEST } from '../../helpers/context.ts';

const pools: ConnectionPool[] = [];
afterAll(async () => {
  for (const p of pools) await p.end(0);
});

describe('pool with a multi-host DATABASE_URL (real server)', () => {
  it('connects only to the host that matches, skipping one that refuses connections', async () => {
    const admin = new URL(inject('databaseAdminUrl'));
    const dead = await freePort(); // nothing listens there
    const multi = `postgres://${admin.username}${admin.password ? `:${admin.password}` : ''}@127.0.0.1:${dead},${admin.hostname}:${admin.port}${admin.pathname}`;
    const logger = createLogger('silent');
    const hosts = createHostsFromUrl(multi, logger);
    expect(hosts).toBeDefined();
    const pool = createPool(testPoolOptions(multi, { hosts, min: 1, max: 2, acquireTimeoutMs: 5000 }));
    pools.push(pool);
    await pool.start();
    const { rows } = await pool.query<{ port: number }>(TEST, { text: 'select inet_server_port() as port' });
    expect(rows[0]!.port).toBe(Number(admin.port));
    expect(hosts!.view().map((h) => [h.role, h.selected])).toEqual([
      ['unreachable', false],
      ['primary', true],
    ]);
    hosts!.stop();
  });

  it('leaves the single-host form to pg exactly as before (no selector)', () => {
    expect(createHostsFromUrl(inject('databaseAdminUrl'), createLogger('silent'))).toBeUndefined();
  });
});
