/**
 * Reads PostgreSQL's own statement statistics, when the server keeps them,
 * to show beside ours on /admin/queries.
 *
 * `pg_stat_statements` sees what we cannot (other clients, time inside the
 * server only, buffer hits) and misses what we see (pool wait, the request
 * behind a statement). It is optional: the extension may not be installed
 * in this database, or installed but not preloaded (its view then raises),
 * or our role may not read other roles' texts. Each case is reported as
 * `available: false` with a reason, never as an error of the admin page.
 * The reads are marked unprofiled so the page does not profile itself.
 *
 * @example
 * const pgss = await readPgStatStatements(contextOf(request), pool, 20);
 * if (pgss.available) console.table(pgss.statements);
 */
import type { Context } from '../context/context.ts';
import type { Queryable } from '../db/types.ts';
import { unprofiled } from './unprofiled.ts';

export interface PgStatement {
  queryid: string;
  query: string;
  calls: number;
  totalMs: number;
  meanMs: number;
  maxMs: number;
  rows: number;
}

export type PgStatStatements = { available: true; schema: string; statements: PgStatement[] } | { available: false; reason: string };

const MAX_QUERY_TEXT = 2000;

/**
 * @example
 * await readPgStatStatements(ctx, pool, 20); // { available: false, reason: 'extension pg_stat_statements is not installed' }
 */
export async function readPgStatStatements(ctx: Context, db: Queryable, limit: number): Promise<PgStatStatements> {
  let schema: string;
  try {
    const { rows } = await db.query<{ schema: string }>(
      ctx,
      unprofiled({
        text: `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`,
      }),
    );
    if (rows[0] === undefined) return { available: false, reason: 'extension pg_stat_statements is not installed in this database' };
    schema = rows[0].schema;
  } catch (err) {
    return { available: false, reason: `could not look for the extension (${codeOf(err)})` };
  }
  try {
    const { rows } = await db.query<{
      queryid: string;
      query: string;
      calls: string;
      total_ms: number;
      mean_ms: number;
      max_ms: number;
      rows: string;
    }>(
      ctx,
      unprofiled({
        text:
          `SELECT queryid::text AS queryid, query, calls, total_exec_time AS total_ms, mean_exec_time AS mean_ms, ` +
          `max_exec_time AS max_ms, rows FROM ${quoteIdent(schema)}.pg_stat_statements ` +
          `WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ` +
          `ORDER BY total_exec_time DESC LIMIT $1`,
        values: [limit],
      }),
    );
    return {
      available: true,
      schema,
      statements: rows.map((r) => ({
        queryid: r.queryid,
        query: r.query.length > MAX_QUERY_TEXT ? `${r.query.slice(0, MAX_QUERY_TEXT)}…` : r.query,
        calls: Number(r.calls),
        totalMs: round(r.total_ms),
        meanMs: round(r.mean_ms),
        maxMs: round(r.max_ms),
        rows: Number(r.rows),
      })),
    };
  } catch (err) {
    // The usual case: installed but not in shared_preload_libraries (SQLSTATE 55000).
    const message = (err as Error | null)?.message ?? '';
    const reason = /shared_preload_libraries/.test(message)
      ? 'pg_stat_statements is installed but not loaded (add it to shared_preload_libraries)'
      : `pg_stat_statements could not be read (${codeOf(err)})`;
    return { available: false, reason };
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function round(ms: number): number {
  return Math.round(Number(ms) * 1000) / 1000;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
