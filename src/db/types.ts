import type { QueryResultRow } from 'pg';

/**
 * A statement to run. Give hot statements a `name`: the pool then prepares
 * them once per connection (measured at about +30% throughput with `pg`),
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

/**
 * Whom a statement is charged to: handed through the pool, untouched, to its
 * `onQuery` hook (the profiler's per-request accounting, src/profiler). Several
 * when one statement serves several requests (a batched read).
 */
export type QueryAccount = object | readonly object[];

export interface QueryOptions {
  /**
   * The statement has no side effects: if its connection breaks, the pool
   * runs it once more on a fresh connection. Never set this for writes.
   * Inside a transaction it is ignored: the transaction as a whole failed.
   */
  idempotent?: boolean;
  /** Charged with the statement; see {@link QueryAccount}. */
  account?: QueryAccount | undefined;
}

/**
 * A read's options, charged to `account`.
 *
 * @example
 * await db.query(GET, readFor(account));
 */
export function readFor(account: QueryAccount | undefined): QueryOptions {
  return account === undefined ? READ : { idempotent: true, account };
}

/** Passed with every read, so a read survives one broken connection. */
export const READ: Readonly<QueryOptions> = Object.freeze({ idempotent: true });

/** Anything that runs statements: the pool itself, or one transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(statement: Statement, options?: QueryOptions): Promise<Rows<R>>;
}

/** What the store needs from a database: single statements and transactions. */
export interface Database extends Queryable {
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection, with ROLLBACK when it
   * throws, and releases the connection on every path.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: { account?: QueryAccount | undefined }): Promise<T>;
}
