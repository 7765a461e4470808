import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForQuietDatabase } from '../../bench/quiet-database.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
});
afterAll(() => db?.drop());

describe('waitForQuietDatabase', () => {
  it('returns at once when nothing else runs', async () => {
    const quiet = await waitForQuietDatabase(db.url, { timeoutMs: 5_000, pollMs: 20 });
    expect(quiet.stillActive).toBe(0);
  });

  it('waits until another session’s statement has finished', async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      let finished = false;
      const running = other.query('SELECT pg_sleep(0.6)').then(() => {
        finished = true;
      });
      // Until Postgres reports it active, there is nothing to wait for.
      await expect.poll(async () => (await waitForQuietDatabase(db.url, { timeoutMs: 0 })).stillActive, { interval: 10 }).toBe(1);
      const quiet = await waitForQuietDatabase(db.url, { timeoutMs: 10_000, pollMs: 20 });
      expect(quiet.stillActive).toBe(0);
      expect(finished).toBe(true);
      await running;
    } finally {
      await other.end();
    }
  });

  it('gives up after the timeout and says how many still run', async () => {
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const running = other.query('SELECT pg_sleep(2)');
      await expect.poll(async () => (await waitForQuietDatabase(db.url, { timeoutMs: 0 })).stillActive, { interval: 10 }).toBe(1);
      const quiet = await waitForQuietDatabase(db.url, { timeoutMs: 150, pollMs: 20 });
      expect(quiet.stillActive).toBe(1);
      expect(quiet.waitedMs).toBeGreaterThanOrEqual(150);
      await running;
    } finally {
      await other.end();
    }
  });
});
