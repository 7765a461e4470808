import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type RunningPostgres } from '../../../src/db/embedded/postgres.ts';
import { createPool, type ConnectionPool } from '../../../src/db/pool/pool.ts';
import { isAppError } from '../../../src/errors/app-error.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { testPoolOptions } from '../../helpers/app.ts';
import { freePort } from '../../../src/net/free-port.ts';
import { TEST } from '../../helpers/context.ts';

// This suite owns its own Postgres (embedded, in a temp dir) so it can stop
// and start it; the shared test server is never restarted.

const logger = createLogger('silent');
let dataDir: string;
let port: number;
let postgres: RunningPostgres;
let pool: ConnectionPool;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'holdfast-restart-'));
  port = await freePort();
  postgres = await startEmbeddedPostgres({ dataDir, port, logger });
  pool = createPool(
    testPoolOptions(postgres.url, { statementTimeoutMs: 0, logger, min: 2, max: 4, acquireTimeoutMs: 3000, queueMax: 100 }),
  );
  await pool.start();
}, 120_000);

afterAll(async () => {
  await pool?.end(0);
  await postgres?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('ConnectionPool across a database restart', () => {
  it('answers fast with a typed 503 error while the database is down and recovers by itself when it returns', async () => {
    expect((await pool.query<{ one: number }>(TEST, { text: 'select 1 as one' })).rows[0]!.one).toBe(1);

    await postgres.stop();
    // Every request ends quickly with a retryable error; none hangs, none crashes the process.
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const started = Date.now();
        try {
          await pool.query(TEST, { text: 'select 1' }, { idempotent: true });
          return { ok: true, ms: Date.now() - started, code: undefined };
        } catch (err) {
          return { ok: false, ms: Date.now() - started, code: isAppError(err) ? err.code : String(err) };
        }
      }),
    );
    for (const o of outcomes) {
      expect(o.ok).toBe(false);
      expect(['DB_UNAVAILABLE', 'POOL_TIMEOUT']).toContain(o.code);
      expect(o.ms).toBeLessThan(3000 + 1000);
    }
    expect(pool.size).toBe(0);

    postgres = await startEmbeddedPostgres({ dataDir, port, logger });
    const back = Date.now();
    let recovered = false;
    while (Date.now() - back < 2000 && !recovered) {
      try {
        await pool.query(TEST, { text: 'select 1' }, { idempotent: true });
        recovered = true;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    expect(recovered).toBe(true);
    // And it refills to min without any restart of the pool.
    await new Promise((r) => setTimeout(r, 1500));
    expect(pool.size).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
