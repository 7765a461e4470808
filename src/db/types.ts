import type { QueryResultRow } from 'pg';
import type { Context } from '../context/context.ts';

/**
 * A statement to run. Give hot statements a `name`: the pool then prepares
 * them once per connection (faster with `pg`: docs/BENCHMARKS.md),
 * unless prepared statements are turned off for a transaction pooler.
 */
export interface Statement {
  /** Name of the prepared statement; must be unique per distinct `text`. */
  name?: string;
  text: string;
  values?: readonly unknown[];
}

/** The part of a query result the application reads. */
export interface Rows<R extends QueryResultRow = QueryResultRow> {
  rows: R[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * The statement has no side effects: if its connection breaks, the pool
   * runs it once more on a fresh connection. Never set this for writes.
   * Inside a transaction it is ignored: the transaction as a whole failed.
   */
  idempotent?: boolean;
  /**
   * performance.now() ms when the caller began waiting for this statement's
   * connection, when that was before the call (a batched read waits for its
   * batch's turn first): DB_POOL_TIMEOUT then counts from there.
   */
  waitingSince?: number;
}

/** Passed with every read, so a read survives one broken connection. */
export const READ: Readonly<QueryOptions> = Object.freeze({ idempotent: true });

/**
 * Anything that runs statements for a context (src/context/context.ts): the
 * pool hands `ctx` with each statement to its `onQuery` hook, where the
 * profiler charges the accounts it carries.
 *
 * @example
 * await db.query(ctx, { ...GET, values: [id] }, READ);
 */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(ctx: Context, statement: Statement, options?: QueryOptions): Promise<Rows<R>>;
}

/** One transaction (or leased connection), bound to the context it was opened for: its statements take no ctx. */
export interface Transaction {
  query<R extends QueryResultRow = QueryResultRow>(statement: Statement, options?: QueryOptions): Promise<Rows<R>>;
}

/** What the store needs from a database: single statements and transactions. */
export interface Database extends Queryable {
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection, with ROLLBACK when it
   * throws, and releases the connection on every path. Every statement of
   * the transaction, BEGIN and COMMIT included, runs under `ctx`.
   *
   * @example
   * await db.transaction(ctx, async (tx) => { await tx.query({ text: 'update …' }); });
   */
  transaction<T>(ctx: Context, fn: (tx: Transaction) => Promise<T>): Promise<T>;
}
