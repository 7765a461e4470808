/**
 * Holdfast's connection pool, over `pg.Client`: the public face. The rules
 * live in core.ts; opening, validation, housekeeping, the retry, silence, the
 * host probe, errors and counters each have their own module beside it.
 *
 * Ours on purpose: pg-pool 3.x has an acquire timeout, `min` and a max
 * lifetime (`maxLifetimeSeconds`), but it does not prewarm to `min`, queues
 * without bound, never validates an idle connection before lending it, and
 * expires connections opened together all at once (no jitter);
 * `generic-pool` does not know what a broken Postgres connection is.
 *
 * @example
 * const pool = createPool({ ...config.pool, connectionString, statementTimeoutMs: 10_000, logger });
 * await pool.start();
 * const { rows } = await pool.query(ctx, { name: 'product-by-id', text: 'select * from products where id = $1', values: [7] });
 * await pool.transaction(ctx, async (tx) => { await tx.query({ text: 'update …' }); });
 * await pool.end();
 */
import type { QueryResultRow } from 'pg';
import type { PoolSettings } from '../../config/index.ts';
import type { Logger } from '../../log/logger.ts';
import type { Context } from '../../context/context.ts';
import type { Database, QueryOptions, Rows, Statement, Transaction } from '../types.ts';
import type { ConcurrencyLimit } from './adaptive-limit.ts';
import type { PooledConnection } from './connection.ts';
import { PoolCore, type OverloadControl } from './core.ts';
import type { RetryBudget } from './retry-budget.ts';
import type { HostSelector, HostView } from '../hosts/selector.ts';
import type { HostConfig } from '../hosts/url.ts';
import type { PoolStats } from './counters.ts';
import { databaseSilent, isConnectionLevel, translate } from './errors.ts';
import { withFreshRetry } from './retry.ts';
import { armCancel } from './cancel.ts';
import { abortedError, clientGone } from '../../context/deadline.ts';
import { guardSilence } from './silence.ts';
import { poolHostProbe, type HostProbe } from './host-probe.ts';

/** The pool's own settings; the adaptive limiter, if any, is built by the caller and passed as `limiter`. */
export interface PoolOptions extends Omit<PoolSettings, 'adaptive' | 'adaptiveMin'> {
  connectionString: string;
  statementTimeoutMs: number;
  logger: Logger;
  /** Several hosts: connections go to the selected one (src/db/hosts/selector.ts). */
  hosts?: HostSelector;
  /** Off for a transaction pooler such as PgBouncer 1.18: names are stripped. */
  preparedStatements?: boolean;
  /** Ask a slow statement's host whether it is there (host-probe.ts; default true). Off behind a pooler, which may queue the probe. */
  hostProbe?: boolean;
  applicationName?: string;
  /** Upper bound on one connection attempt. */
  connectTimeoutMs?: number;
  /** How long a CancelRequest may take to land before its connection is discarded (default 1 s). */
  cancelTimeoutMs?: number;
  /** Fraction of the lifetime taken off at random, so connections don't all recycle together. */
  recycleJitter?: number;
  /** Adaptive cap on leased connections (≤ max); absent means the cap is max. */
  limiter?: ConcurrencyLimit;
  /** CoDel and the high reserve (codel.ts); absent means a plain FIFO queue. */
  overload?: OverloadControl;
  /** Bounds the idempotent-read retry (retry-budget.ts); absent means unbounded. */
  retryBudget?: RetryBudget;
  /** Called after every statement, for profiling. Must not throw. */
  onQuery?: (event: QueryEvent) => void;
  /** Told of each lease's end and each new connection, for metrics (src/telemetry/pool-meter.ts). */
  observer?: PoolObserver;
}

/**
 * The pool's events that a gauge cannot show: how long each lease waited and
 * held its connection, and how long each connection took to open. Called
 * synchronously on the pool's path: must be cheap and must not throw.
 */
export interface PoolObserver {
  /** A lease ended (released or discarded): it waited `waitMs` for its connection, then held it `useMs`. */
  leaseEnded(event: { waitMs: number; useMs: number }): void;
  /** A connection was opened (connect and authentication) in `ms`. */
  connected(ms: number): void;
}

export interface QueryEvent {
  statement: Statement;
  /** Time spent waiting for a connection (0 inside a transaction). */
  waitMs: number;
  /** Time the statement ran on the connection. */
  durationMs: number;
  rowCount: number;
  error?: unknown;
  /** The context the statement ran under, untouched (the profiler charges its accounts). */
  ctx: Context;
  /** The host the statement ran on, when the pool has several (DATABASE_URL's multi-host form). */
  host?: HostConfig | undefined;
}

/** A leased connection, bound to the context it was acquired for; call `release` exactly once. */
export interface Lease extends Transaction {
  /** Returns the connection; pass an error to discard it instead (as pg-pool does). */
  release(err?: unknown): void;
}

export class ConnectionPool implements Database {
  readonly min: number;
  readonly max: number;
  /** Every gauge and total the pool keeps, read by /metrics, the dashboard and tests. */
  readonly counters: PoolStats;

  #core: PoolCore;
  #onQuery: PoolOptions['onQuery'];
  #preparedStatements: boolean;
  #leakMs: number;
  #retryBudget: RetryBudget | undefined;
  #statementTimeoutMs: number;
  #cancelTimeoutMs: number | undefined;
  #hosts: HostSelector | undefined;
  #observer: PoolObserver | undefined;
  #probe: HostProbe | undefined;

  constructor(options: PoolOptions) {
    this.min = options.min;
    this.max = options.max;
    const resolved = {
      preparedStatements: true,
      applicationName: 'holdfast',
      connectTimeoutMs: Math.min(5000, Math.max(1000, options.acquireTimeoutMs)),
      recycleJitter: 0.1,
      hostProbe: true,
      ...options,
    };
    this.#core = new PoolCore(resolved);
    this.#probe = options.hostProbe === false ? undefined : poolHostProbe(this.#core.all, resolved, options.logger, this.#core.counters);
    this.counters = this.#core.counters;
    this.#onQuery = options.onQuery;
    this.#preparedStatements = options.preparedStatements ?? true;
    this.#leakMs = options.leakMs;
    this.#retryBudget = options.retryBudget;
    this.#statementTimeoutMs = options.statementTimeoutMs;
    this.#cancelTimeoutMs = options.cancelTimeoutMs; // undefined: sendCancel's default
    this.#hosts = options.hosts;
    this.#observer = options.observer;
  }

  // pg-pool's totalCount, idleCount and waitingCount, under our names.
  get size(): number {
    return this.counters.size;
  }
  get idle(): number {
    return this.counters.idle;
  }
  get active(): number {
    return this.counters.active;
  }
  get waiting(): number {
    return this.counters.waiting;
  }
  /** Most connections that may be leased now: the adaptive limit, or max. */
  get limit(): number {
    return this.counters.limit;
  }
  get closed(): boolean {
    return this.#core.closed;
  }
  /** Several hosts: each with its last known role and whether it is selected; undefined for one host. */
  get hosts(): HostView[] | undefined {
    return this.#hosts?.view();
  }

  /**
   * Opens `min` connections. Rejects if the database can't be reached at all,
   * so a misconfigured service fails at start rather than on first request.
   */
  start(): Promise<void> {
    return this.#core.start();
  }

  /** Leases a connection. Prefer {@link query} or {@link transaction}, which always release. */
  async acquire(ctx: Context): Promise<Lease> {
    const started = performance.now();
    const conn = await this.#core.acquire({ deadline: ctx.deadline, signal: ctx.signal, priority: ctx.priority });
    const waitMs = performance.now() - started;
    this.counters.acquireWait.record(waitMs);
    return this.#lease(conn, ctx, waitMs);
  }

  async query<R extends QueryResultRow = QueryResultRow>(ctx: Context, statement: Statement, options?: QueryOptions): Promise<Rows<R>> {
    const request = { deadline: ctx.deadline, signal: ctx.signal, priority: ctx.priority, since: options?.waitingSince };
    return withFreshRetry(
      this.#core,
      options?.idempotent,
      (acquire) => this.#queryOnce<R>(acquire, statement, ctx),
      request,
      this.#retryBudget,
    );
  }

  async transaction<T>(ctx: Context, fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const lease = await this.acquire(ctx);
    // The lease is bound to ctx: every statement of the transaction runs under it.
    const tx: Transaction = lease;
    let discard: unknown;
    try {
      await tx.query({ text: 'BEGIN' });
      const result = await fn(tx);
      await tx.query({ text: 'COMMIT' });
      return result;
    } catch (err) {
      if (isConnectionLevel(err)) {
        discard = err;
      } else {
        // A connection that can't roll back is in an unknown state: discard it.
        await tx.query({ text: 'ROLLBACK' }).catch((rollbackErr: unknown) => {
          discard = rollbackErr;
        });
      }
      throw err;
    } finally {
      lease.release(discard);
    }
  }

  /**
   * Stops handing out connections, waits up to `timeoutMs` for leased ones to
   * come back, then closes everything. Waiting requests get POOL_CLOSED.
   */
  end(timeoutMs = 5000): Promise<void> {
    this.#probe?.stop();
    return this.#core.close(timeoutMs);
  }

  #lease(conn: PooledConnection, ctx: Context, waitMs: number): Lease {
    const leasedAt = performance.now();
    conn.leasedAt = Date.now();
    conn.leakReported = false;
    if (this.#leakMs > 0) {
      const site: { stack?: string } = {};
      Error.captureStackTrace(site, this.acquire);
      conn.leaseSite = site;
    }
    let released = false;
    // Arrow functions: they keep this pool as `this`, whoever calls them.
    return {
      query: <R extends QueryResultRow = QueryResultRow>(statement: Statement, _options?: QueryOptions): Promise<Rows<R>> => {
        if (released) return Promise.reject(new Error('query on a released connection'));
        return this.#run<R>(conn, statement, 0, ctx);
      },
      release: (err?: unknown): void => {
        if (released) return;
        released = true;
        this.#returned(conn, waitMs, leasedAt, err);
      },
    };
  }

  async #queryOnce<R extends QueryResultRow>(
    acquire: () => Promise<PooledConnection>,
    statement: Statement,
    ctx: Context,
  ): Promise<Rows<R>> {
    const started = performance.now();
    const conn = await acquire();
    const leasedAt = performance.now();
    const waitMs = leasedAt - started;
    this.counters.acquireWait.record(waitMs);
    conn.leasedAt = Date.now();
    if (ctx.signal.aborted) {
      // Abandoned as the connection arrived: send nothing.
      this.#returned(conn, waitMs, leasedAt);
      throw abortedError(ctx.signal, 'waiting for a connection');
    }
    try {
      return await this.#run<R>(conn, statement, waitMs, ctx);
    } finally {
      this.#returned(conn, waitMs, leasedAt);
    }
  }

  /** Ends a lease: tells the observer how long it waited and held the connection, and gives the connection back. */
  #returned(conn: PooledConnection, waitMs: number, leasedAt: number, err?: unknown): void {
    const useMs = performance.now() - leasedAt;
    this.#core.release(conn, err);
    this.#observer?.leaseEnded({ waitMs, useMs });
  }

  async #run<R extends QueryResultRow>(conn: PooledConnection, statement: Statement, waitMs: number, ctx: Context): Promise<Rows<R>> {
    // Sent behind a statement the server has not answered (silence.ts), it would only wait for that one.
    if (conn.unanswered) throw databaseSilent('an earlier statement on this connection');
    const started = performance.now();
    const values = statement.values as unknown[] | undefined;
    const config =
      statement.name !== undefined && this.#preparedStatements
        ? { name: statement.name, text: statement.text, values }
        : { text: statement.text, values };
    // Silence: the caller stops waiting past statement_timeout + a margin, the connection is severed later (silence.ts),
    // and both at once when the host does not answer the probe a slow statement starts (host-probe.ts).
    const guard = guardSilence(
      conn,
      conn.client.query<R>(config),
      this.#statementTimeoutMs,
      () => this.#core.connectionLost(conn),
      this.#probe,
    );
    // Cancelled on the server at the request's deadline or when its client leaves (cancel.ts); the same
    // abort shortens the guard's wait (one listener per statement: an AbortSignal's are not cheap).
    const disarm = armCancel(conn.client, ctx.signal, clientGone, this.#cancelTimeoutMs, guard.abandoned);
    try {
      const result = await guard.answer;
      const durationMs = performance.now() - started;
      this.#onQuery?.({ statement, waitMs, durationMs, rowCount: result.rowCount ?? 0, ctx, host: conn.host });
      this.#core.sample(durationMs);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (err) {
      this.#onQuery?.({ statement, waitMs, durationMs: performance.now() - started, rowCount: 0, error: err, ctx, host: conn.host });
      const verdict =
        ctx.signal.aborted && !conn.broken
          ? { error: abortedError(ctx.signal, 'running a statement'), connectionLost: false }
          : translate(err);
      if (verdict.connectionLost || conn.broken) this.#core.connectionLost(conn);
      else if (verdict.hostDemoted === true) this.#core.hostDemoted(conn);
      throw verdict.error;
    } finally {
      // Not reused while a cancel is on its way (core.release), nor while the statement is unanswered;
      // a later statement of the same lease (a ROLLBACK after an abandoned one) must not forget either.
      conn.cancelling = allReusable(disarm(), guard.unanswered(), conn.cancelling);
    }
  }
}

/** One promise for the waits that keep a connection from reuse: true once all allow it; undefined for none. */
function allReusable(
  cancel: Promise<boolean> | undefined,
  unanswered: Promise<boolean> | undefined,
  earlier: Promise<boolean> | undefined,
): Promise<boolean> | undefined {
  // Every statement passes here: the usual case (nothing pending) allocates nothing.
  if (cancel === undefined && unanswered === undefined) return earlier;
  const pending = [cancel, unanswered, earlier].filter((w) => w !== undefined);
  return pending.length === 1 ? pending[0] : Promise.all(pending).then((reusable) => reusable.every(Boolean));
}

/** Builds a pool; call `start()` before use. */
export function createPool(options: PoolOptions): ConnectionPool {
  return new ConnectionPool(options);
}
