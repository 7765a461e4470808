/**
 * Waits, between contenders, until the database has no statement left
 * running from the one before.
 *
 * Why: a stopped contender's statements keep running in Postgres until each
 * backend next tries to write to its closed socket. After the naive peer's
 * OFFSET page at c=1000, 22 backends were still active when it exited, and
 * the last finished about 2.5 s later, on the same two cores as the next
 * contender's start, warm-up and first cell. A precaution: how much that
 * moved a cell was not established (docs/BENCHMARKS.md).
 *
 * @example
 * const { waitedMs, stillActive } = await waitForQuietDatabase(database.url, { timeoutMs: 30_000 });
 */
import pg from 'pg';

/** @example const quiet: QuietResult = { waitedMs: 2400, stillActive: 0 }; */
export interface QuietResult {
  waitedMs: number;
  /** Statements still running when the wait gave up; 0 when it ended quiet. */
  stillActive: number;
}

/** @example const options: QuietOptions = { timeoutMs: 30_000, pollMs: 200 }; */
export interface QuietOptions {
  timeoutMs: number;
  pollMs?: number;
}

/** Statements running in this database, other than this one. */
const ACTIVE_SQL = `SELECT count(*)::int AS active FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND state NOT IN ('idle', 'idle in transaction')`;

/**
 * Polls until no other statement runs in `url`'s database, or `timeoutMs` passes.
 *
 * @example
 * await waitForQuietDatabase('postgres://postgres@127.0.0.1:5432/holdfast_bench', { timeoutMs: 30_000 });
 */
export async function waitForQuietDatabase(url: string, options: QuietOptions): Promise<QuietResult> {
  const pollMs = options.pollMs ?? 200;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {}); // surfaced through the awaited query instead
  await client.connect();
  const started = performance.now();
  try {
    for (;;) {
      const { rows } = await client.query<{ active: number }>(ACTIVE_SQL);
      const active = rows[0]?.active ?? 0;
      const waitedMs = Math.round(performance.now() - started);
      if (active === 0 || waitedMs >= options.timeoutMs) return { waitedMs, stillActive: active };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  } finally {
    await client.end();
  }
}
