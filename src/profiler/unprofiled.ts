/**
 * Statements the profiler must not count: its own EXPLAINs and the admin
 * page's reads of pg_stat_statements.
 *
 * They run through the same pool (and so the same `onQuery` hook) as the
 * application's statements; counting them would put the observer in the
 * observation. The pool passes the very statement object it was given to
 * `onQuery`, so a WeakSet of those objects marks them exactly, whoever runs
 * them, and costs nothing once they are collected.
 *
 * @example
 * await pool.query(ctx, unprofiled({ text: 'EXPLAIN (FORMAT JSON) select 1' }));
 */
import type { Statement } from '../db/types.ts';

const marked = new WeakSet<Statement>();

/** Marks `statement` as not to be profiled and returns it. */
export function unprofiled<S extends Statement>(statement: S): S {
  marked.add(statement);
  return statement;
}

/**
 * @example
 * if (isUnprofiled(event.statement)) return;
 */
export function isUnprofiled(statement: Statement): boolean {
  return marked.has(statement);
}
