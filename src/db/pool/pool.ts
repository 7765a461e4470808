/**
 * Holdfast's connection pool, over `pg.Client`.
 *
 * Ours on purpose: no Node pool today prewarms to `min`, bounds its wait
 * queue, validates idle connections on borrow, jitters lifetimes and reports
 * wait times. `pg-pool` queues without bound and has no max lifetime;
 * `generic-pool` does not know what a broken Postgres connection is.
 *
 * Rules, in the order a request meets them:
 * - an idle connection is reused last-in, first-out (the warmest one), and is
 *   validated first if it sat idle longer than `validateAfterIdleMs`, or if
 *   another connection broke since it was returned;
 * - otherwise the pool grows towards `max`, and the request waits first-in,
 *   first-out for the next free connection, at most `acquireTimeoutMs`;
 * - with `queueMax` requests already waiting, the next is refused at once;
 *   in `nowait` mode a request that would have to wait is refused at once.
 * A connection is recycled when returned after its (jittered) lifetime,
 * discarded when broken, and closed after `idleTimeoutMs` above `min`.
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
import { AppError } from '../../errors/app-error.ts';
import type { Logger } from '../../log/logger.ts';
import { Histogram, type HistogramSnapshot } from '../../stats/histogram.ts';
import type { Context } from '../../context/context.ts';
import type { Database, QueryOptions, Rows, Statement, Transaction } from '../types.ts';
import type { ConcurrencyLimit } from './adaptive-limit.ts';
import { PooledConnection, isConnectionError, openClient } from './connection.ts';
import { WaitQueue, type Waiter } from './wait-queue.ts';

/** The pool's own settings; the adaptive limiter, if any, is built by the caller and passed as `limiter`. */
export interface PoolOptions extends Omit<PoolSettings, 'adaptive' | 'adaptiveMin'> {
  connectionString: string;
  statementTimeoutMs: number;
  logger: Logger;
  /** Off for a transaction pooler such as PgBouncer 1.18: names are stripped. */
  preparedStatements?: boolean;
  applicationName?: string;
  /** Upper bound on one connection attempt. */
  connectTimeoutMs?: number;
  /** Fraction of the lifetime taken off at random, so connections don't all recycle together. */
  recycleJitter?: number;
  /** Adaptive cap on leased connections (≤ max); absent means the cap is max. */
  limiter?: ConcurrencyLimit;
  /** Called after every statement, for profiling. Must not throw. */
  onQuery?: (event: QueryEvent) => void;
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
}

/** A leased connection, bound to the context it was acquired for; call `release` exactly once. */
export interface Lease extends Transaction {
  /** Returns the connection; pass an error to discard it instead (as pg-pool does). */
  release(err?: unknown): void;
}

export interface PoolStats {
  min: number;
  max: number;
  /** The adaptive limit when on, else max. */
  limit: number;
  size: number;
  idle: number;
  active: number;
  waiting: number;
  pending: number;
  acquires: number;
  timeouts: number;
  queueFull: number;
  exhausted: number;
  created: number;
  destroyed: number;
  recycled: number;
  connectErrors: number;
  leaks: number;
  validations: number;
  validationFailures: number;
  acquireWait: HistogramSnapshot;
}

export interface ConnectionInfo {
  id: number;
  ageMs: number;
  /** Recycle age after jitter. */
  lifetimeMs: number;
  state: 'idle' | 'leased';
  /** How long it has been idle, or leased. */
  sinceMs: number;
}

const HOUSEKEEPING_MS = 1000;
const VALIDATE_TIMEOUT_MS = 1000;
const MAX_BACKOFF_MS = 5000;

export class ConnectionPool implements Database {
  readonly min: number;
  readonly max: number;
  readonly acquireWait = new Histogram();

  #opts: Required<Omit<PoolOptions, 'onQuery' | 'limiter'>> & Pick<PoolOptions, 'onQuery' | 'limiter'>;
  #log: Logger;
  #all = new Set<PooledConnection>();
  #idle: PooledConnection[] = [];
  #waiters = new WaitQueue<PooledConnection>();
  #pending = 0;
  #nextId = 1;
  #closed = false;
  #housekeeping: NodeJS.Timeout | undefined;
  #backoffMs = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #lastConnectErrorLog = 0;
  #drained: (() => void) | undefined;

  #acquires = 0;
  #timeouts = 0;
  #queueFull = 0;
  #exhausted = 0;
  #created = 0;
  #destroyed = 0;
  #recycled = 0;
  #connectErrors = 0;
  #leaks = 0;
  #validations = 0;
  #validationFailures = 0;

  constructor(options: PoolOptions) {
    this.min = options.min;
    this.max = options.max;
    this.#log = options.logger;
    this.#opts = {
      preparedStatements: true,
      applicationName: 'holdfast',
      connectTimeoutMs: Math.min(5000, Math.max(1000, options.acquireTimeoutMs)),
      recycleJitter: 0.1,
      ...options,
    };
  }

  get size(): number {
    return this.#all.size;
  }
  get idle(): number {
    return this.#idle.length;
  }
  get active(): number {
    return this.#all.size - this.#idle.length;
  }
  /** Most connections that may be leased now: the adaptive limit, or max. */
  get limit(): number {
    const adaptive = this.#opts.limiter?.limit;
    return adaptive === undefined ? this.max : Math.min(adaptive, this.max);
  }
  get waiting(): number {
    return this.#waiters.length;
  }
  get pending(): number {
    return this.#pending;
  }
  get acquires(): number {
    return this.#acquires;
  }
  get timeouts(): number {
    return this.#timeouts;
  }
  get queueFull(): number {
    return this.#queueFull;
  }
  get exhausted(): number {
    return this.#exhausted;
  }
  get created(): number {
    return this.#created;
  }
  get destroyed(): number {
    return this.#destroyed;
  }
  get recycled(): number {
    return this.#recycled;
  }
  get connectErrors(): number {
    return this.#connectErrors;
  }
  get leaks(): number {
    return this.#leaks;
  }
  get validations(): number {
    return this.#validations;
  }
  get validationFailures(): number {
    return this.#validationFailures;
  }
  get closed(): boolean {
    return this.#closed;
  }

  stats(): PoolStats {
    return {
      min: this.min,
      max: this.max,
      limit: this.limit,
      size: this.size,
      idle: this.idle,
      active: this.active,
      waiting: this.waiting,
      pending: this.pending,
      acquires: this.#acquires,
      timeouts: this.#timeouts,
      queueFull: this.#queueFull,
      exhausted: this.#exhausted,
      created: this.#created,
      destroyed: this.#destroyed,
      recycled: this.#recycled,
      connectErrors: this.#connectErrors,
      leaks: this.#leaks,
      validations: this.#validations,
      validationFailures: this.#validationFailures,
      acquireWait: this.acquireWait.snapshot(),
    };
  }

  /** One line per live connection, for operators: age, lifetime left, idle or leased. */
  inspect(): ConnectionInfo[] {
    const now = Date.now();
    const idle = new Set(this.#idle);
    return [...this.#all].map((c) => ({
      id: c.id,
      ageMs: now - c.createdAt,
      lifetimeMs: c.expiresAt - c.createdAt,
      state: idle.has(c) ? 'idle' : 'leased',
      sinceMs: idle.has(c) ? now - c.lastReleasedAt : now - c.leasedAt,
    }));
  }

  /**
   * Opens `min` connections. Rejects if the database can't be reached at all,
   * so a misconfigured service fails at start rather than on first request.
   */
  async start(): Promise<void> {
    const results = await Promise.allSettled(Array.from({ length: this.min }, () => this.#open()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.min > 0 && failed.length === this.min) {
      await this.end(0);
      throw new AppError('DB_UNAVAILABLE', `could not open any connection: ${describe(failed[0]!.reason)}`, {}, { cause: failed[0]!.reason });
    }
    for (const r of results) if (r.status === 'fulfilled') this.#makeAvailable(r.value);
    if (failed.length > 0) this.#scheduleReplenish();
    this.#housekeeping = setInterval(() => this.#housekeep(), HOUSEKEEPING_MS);
    this.#housekeeping.unref();
    const o = this.#opts;
    this.#log.info(
      { pool: { min: o.min, max: o.max, size: this.size, queueMax: o.queueMax, getMode: o.getMode } },
      `pool ready: min ${o.min}, max ${o.max}, timeout ${o.acquireTimeoutMs / 1000}s, recycle ${o.recycleMs / 1000}s`,
    );
  }

  /** Leases a connection. Prefer {@link query} or {@link transaction}, which always release. */
  async acquire(ctx: Context): Promise<Lease> {
    const started = performance.now();
    const conn = await this.#acquireConnection();
    this.acquireWait.record(performance.now() - started);
    return this.#lease(conn, ctx);
  }

  async query<R extends QueryResultRow = QueryResultRow>(ctx: Context, statement: Statement, options?: QueryOptions): Promise<Rows<R>> {
    try {
      return await this.#queryOnce<R>(statement, ctx);
    } catch (err) {
      if (options?.idempotent && err instanceof AppError && err.code === 'DB_UNAVAILABLE' && !this.#closed) {
        return this.#queryOnce<R>(statement, ctx, performance.now());
      }
      throw err;
    }
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
  async end(timeoutMs = 5000): Promise<void> {
    if (this.#closed && this.#all.size === 0) return;
    this.#closed = true;
    clearInterval(this.#housekeeping);
    clearTimeout(this.#retryTimer);
    for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
      clearTimeout(w.timer);
      w.reject(new AppError('POOL_CLOSED', 'the pool is shutting down', { retryAfterSeconds: 1 }));
    }
    for (const conn of this.#idle.splice(0)) this.#destroy(conn);
    if (this.#all.size > 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#drained = undefined;
    const closing = [...this.#all].map((conn) => this.#destroy(conn));
    await Promise.all(closing);
  }

  // ---- acquiring ------------------------------------------------------------

  #acquireConnection(): Promise<PooledConnection> {
    if (this.#closed) return Promise.reject(new AppError('POOL_CLOSED', 'the pool is shutting down', { retryAfterSeconds: 1 }));
    this.#acquires++;
    const limit = this.limit;
    // Never overtake a waiter, and never exceed the (adaptive) limit.
    const underLimit = this.active < limit && this.#waiters.length === 0;
    const idle = underLimit ? this.#takeIdle() : undefined;
    if (idle !== undefined) {
      if (idle.suspect || Date.now() - idle.lastReleasedAt > this.#opts.validateAfterIdleMs) return this.#validated(idle);
      return Promise.resolve(idle);
    }
    const canGrow = this.#all.size + this.#pending < this.max && this.active + this.#pending < limit;
    if (this.#opts.getMode === 'nowait' && !canGrow) {
      this.#exhausted++;
      return Promise.reject(
        new AppError('POOL_EXHAUSTED', `all ${limit} connections are busy`, { retryAfterSeconds: 1 }),
      );
    }
    if (this.#waiters.length >= this.#opts.queueMax) {
      this.#queueFull++;
      return Promise.reject(
        new AppError('POOL_QUEUE_FULL', `${this.#waiters.length} requests are already waiting for a connection`, {
          retryAfterSeconds: 1,
        }),
      );
    }
    return new Promise<PooledConnection>((resolve, reject) => {
      const waiter: Waiter<PooledConnection> = { resolve, reject, timer: undefined, enqueuedAt: Date.now(), settled: false };
      waiter.timer = setTimeout(() => {
        this.#waiters.remove(waiter);
        this.#timeouts++;
        reject(
          new AppError('POOL_TIMEOUT', `no connection became free within ${this.#opts.acquireTimeoutMs} ms`, {
            retryAfterSeconds: 1,
          }),
        );
      }, this.#opts.acquireTimeoutMs);
      this.#waiters.push(waiter);
      // Open only as many new connections as there are waiters to serve.
      if (canGrow && this.#pending < this.#waiters.length) this.#grow();
    });
  }

  /**
   * For the retry of an idempotent read whose connection died at `failedAt`
   * (`performance.now()`): a connection whose connect began after that.
   * Whatever killed the first one (a restart, a pg_terminate_backend
   * sweeping the pool) may not have reached its siblings yet, those being
   * opened included; a sibling can even answer a validation query and die
   * right after. Only a backend started after the failure is safe from the
   * same event. Opened beside the queue: the request already held a
   * connection, it keeps its turn. At max, room is made by closing a
   * connection that sat idle through the failure (as suspect as the one
   * that died); with none, the request queues like any other and trades an
   * older connection it is handed for a new one in the same slot.
   */
  async #acquireFresh(failedAt: number): Promise<PooledConnection> {
    if (this.#closed) throw new AppError('POOL_CLOSED', 'the pool is shutting down', { retryAfterSeconds: 1 });
    if (this.#all.size + this.#pending >= this.max) {
      const suspect = this.#idle.find((conn) => conn.suspect);
      if (suspect === undefined) {
        const conn = await this.#acquireConnection();
        if (conn.connectStartedAt > failedAt) return conn;
        this.#destroy(conn);
        return this.#openForRetry();
      }
      this.#destroy(suspect);
    }
    this.#acquires++;
    return this.#openForRetry();
  }

  async #openForRetry(): Promise<PooledConnection> {
    let conn: PooledConnection;
    try {
      conn = await this.#open();
    } catch (err) {
      this.#scheduleReplenish();
      throw new AppError('DB_UNAVAILABLE', 'the database is unreachable', { retryAfterSeconds: 1 }, { cause: err });
    }
    if (this.#closed) {
      this.#destroy(conn);
      throw new AppError('POOL_CLOSED', 'the pool is shutting down', { retryAfterSeconds: 1 });
    }
    return conn;
  }

  #takeIdle(): PooledConnection | undefined {
    for (let conn = this.#idle.pop(); conn !== undefined; conn = this.#idle.pop()) {
      if (!conn.broken) return conn;
      this.#destroy(conn);
    }
    return undefined;
  }

  /** Checks a connection that sat idle a while; falls back to a normal acquire if it is dead. */
  async #validated(conn: PooledConnection): Promise<PooledConnection> {
    let timer: NodeJS.Timeout | undefined;
    this.#validations++;
    try {
      await Promise.race([
        conn.client.query('SELECT 1'),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('validation timed out')), VALIDATE_TIMEOUT_MS);
        }),
      ]);
      conn.suspect = false;
      return conn;
    } catch {
      this.#validationFailures++;
      conn.broken = true;
      this.#destroy(conn);
      this.#acquires--; // the retry below counts the acquire again
      return this.#acquireConnection();
    } finally {
      clearTimeout(timer);
    }
  }

  #lease(conn: PooledConnection, ctx: Context): Lease {
    conn.leasedAt = Date.now();
    conn.leakReported = false;
    if (this.#opts.leakMs > 0) {
      const site: { stack?: string } = {};
      Error.captureStackTrace(site, this.acquire);
      conn.leaseSite = site;
    }
    let released = false;
    const pool = this;
    return {
      query<R extends QueryResultRow = QueryResultRow>(statement: Statement, _options?: QueryOptions): Promise<Rows<R>> {
        if (released) return Promise.reject(new Error('query on a released connection'));
        return pool.#run<R>(conn, statement, 0, ctx);
      },
      release(err?: unknown): void {
        if (released) return;
        released = true;
        pool.#release(conn, err);
      },
    };
  }

  /** With `failedAt`, a retry: runs on a connection opened after that failure. */
  async #queryOnce<R extends QueryResultRow>(statement: Statement, ctx: Context, failedAt?: number): Promise<Rows<R>> {
    const started = performance.now();
    const conn = failedAt === undefined ? await this.#acquireConnection() : await this.#acquireFresh(failedAt);
    const waitMs = performance.now() - started;
    this.acquireWait.record(waitMs);
    conn.leasedAt = Date.now();
    try {
      // A connection-level failure marks the connection broken in #run.
      return await this.#run<R>(conn, statement, waitMs, ctx);
    } finally {
      this.#release(conn);
    }
  }

  async #run<R extends QueryResultRow>(conn: PooledConnection, statement: Statement, waitMs: number, ctx: Context): Promise<Rows<R>> {
    const started = performance.now();
    const config =
      statement.name !== undefined && this.#opts.preparedStatements
        ? { name: statement.name, text: statement.text, values: statement.values as unknown[] | undefined }
        : { text: statement.text, values: statement.values as unknown[] | undefined };
    try {
      const result = await conn.client.query<R>(config);
      const durationMs = performance.now() - started;
      this.#opts.onQuery?.({ statement, waitMs, durationMs, rowCount: result.rowCount ?? 0, ctx });
      if (this.#opts.limiter !== undefined) this.#feedLimiter(durationMs);
      return { rows: result.rows, rowCount: result.rowCount ?? 0 };
    } catch (err) {
      this.#opts.onQuery?.({ statement, waitMs, durationMs: performance.now() - started, rowCount: 0, error: err, ctx });
      const translated = translate(err, conn);
      if (conn.broken) this.#suspectIdle();
      throw translated;
    }
  }

  /**
   * One connection died under a statement: its siblings may have died with
   * it (a server restart, a mass pg_terminate_backend, a proxy dropping
   * sockets) before their own error has been read off the socket. Until
   * each proves alive with a round trip, none is handed out as it is:
   * the next requests, writes among them, would fail on a corpse instead.
   */
  #suspectIdle(): void {
    for (const conn of this.#idle) conn.suspect = true;
  }

  #feedLimiter(durationMs: number): void {
    const before = this.limit;
    this.#opts.limiter!.onSample(durationMs, this.active);
    if (this.limit > before) this.#dispatch();
  }

  // ---- returning ------------------------------------------------------------

  #release(conn: PooledConnection, err?: unknown): void {
    conn.leaseSite = undefined;
    if (err !== undefined && err !== null) conn.broken = true;
    if (conn.broken || this.#closed) {
      this.#destroy(conn);
      this.#replenish();
      return;
    }
    if (Date.now() >= conn.expiresAt) {
      this.#recycled++;
      this.#destroy(conn);
      this.#replenish();
      return;
    }
    conn.lastReleasedAt = Date.now();
    this.#makeAvailable(conn);
  }

  /** Hands a free connection to the oldest waiter, or parks it as idle. */
  #makeAvailable(conn: PooledConnection): void {
    // `conn` is not idle, so `active` counts it: hand it over only if the
    // waiter would still be within the limit, else park it.
    const waiter = this.active - 1 < this.limit ? this.#waiters.shift() : undefined;
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.resolve(conn);
      return;
    }
    this.#idle.push(conn);
  }

  /** After the limit rose: serve waiters from idle connections, or grow for them. */
  #dispatch(): void {
    while (this.#waiters.length > 0 && this.active < this.limit) {
      const conn = this.#takeIdle();
      if (conn === undefined) {
        this.#replenish();
        return;
      }
      const waiter = this.#waiters.shift()!;
      clearTimeout(waiter.timer);
      waiter.resolve(conn);
    }
  }

  /** Opens connections to keep `min`, and to serve waiters within the limit. */
  #replenish(): void {
    if (this.#closed) return;
    const short = Math.max(this.min - this.#all.size - this.#pending, 0);
    const forWaiters = Math.max(Math.min(this.#waiters.length, this.limit - this.active) - this.#pending, 0);
    const room = this.max - this.#all.size - this.#pending;
    for (let i = Math.min(Math.max(short, forWaiters), room); i > 0; i--) this.#grow();
  }

  // ---- opening and closing --------------------------------------------------

  async #open(): Promise<PooledConnection> {
    this.#pending++;
    const connectStartedAt = performance.now();
    try {
      const client = await openClient({
        connectionString: this.#opts.connectionString,
        statementTimeoutMs: this.#opts.statementTimeoutMs,
        connectTimeoutMs: this.#opts.connectTimeoutMs,
        applicationName: this.#opts.applicationName,
      });
      const lifetime = this.#opts.recycleMs * (1 - Math.random() * this.#opts.recycleJitter);
      const conn = new PooledConnection(this.#nextId++, client, Date.now(), lifetime, (broken) => this.#onBroken(broken));
      conn.connectStartedAt = connectStartedAt;
      this.#all.add(conn);
      this.#created++;
      this.#backoffMs = 0;
      return conn;
    } catch (err) {
      this.#connectErrors++;
      this.#logConnectError(err);
      throw err;
    } finally {
      this.#pending--;
    }
  }

  /** A connection's socket died. Idle ones go now; leased ones go on release. */
  #onBroken(conn: PooledConnection): void {
    // Our own close (recycle, idle timeout) ends the client too: that is no news about the server.
    if (this.#closed || !this.#all.has(conn)) return;
    this.#suspectIdle();
    if (!this.#idle.includes(conn)) return;
    this.#destroy(conn);
    this.#replenish();
  }

  #grow(): void {
    this.#open().then(
      (conn) => {
        if (this.#closed) this.#destroy(conn);
        else this.#makeAvailable(conn);
      },
      (err: unknown) => {
        if (this.#closed) return;
        // With nothing alive, no release will ever serve the waiters: tell
        // them now rather than let them sit out the full timeout.
        if (this.#all.size === 0 && this.#pending === 0) {
          for (let w = this.#waiters.shift(); w; w = this.#waiters.shift()) {
            clearTimeout(w.timer);
            w.reject(new AppError('DB_UNAVAILABLE', 'the database is unreachable', { retryAfterSeconds: 1 }, { cause: err }));
          }
        }
        this.#scheduleReplenish();
      },
    );
  }

  #scheduleReplenish(): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs === 0 ? 100 : this.#backoffMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#replenish();
    }, this.#backoffMs);
    this.#retryTimer.unref();
  }

  #destroy(conn: PooledConnection): Promise<void> {
    if (!this.#all.delete(conn)) return Promise.resolve();
    this.#destroyed++;
    const i = this.#idle.indexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
    if (this.#all.size === 0) this.#drained?.();
    return conn.client.end().catch(() => {});
  }

  #housekeep(): void {
    const now = Date.now();
    // Idle above min: close the coldest first (the bottom of the LIFO stack).
    while (this.#idle.length > 0 && this.#all.size > this.min) {
      const coldest = this.#idle[0]!;
      if (now - coldest.lastReleasedAt < this.#opts.idleTimeoutMs) break;
      this.#idle.shift();
      this.#destroy(coldest);
    }
    for (const conn of [...this.#idle]) if (conn.broken) this.#destroy(conn);
    if (this.#opts.leakMs > 0) {
      for (const conn of this.#all) {
        if (conn.leaseSite !== undefined && !conn.leakReported && now - conn.leasedAt > this.#opts.leakMs) {
          conn.leakReported = true;
          this.#leaks++;
          this.#log.warn(
            { connectionId: conn.id, heldMs: now - conn.leasedAt, acquiredAt: conn.leaseSite.stack },
            `connection held for more than ${this.#opts.leakMs} ms: possible leak`,
          );
        }
      }
    }
    this.#replenish();
  }

  #logConnectError(err: unknown): void {
    // One line per 5 s at most: a database outage must not flood the log.
    const now = Date.now();
    if (now - this.#lastConnectErrorLog < 5000) return;
    this.#lastConnectErrorLog = now;
    this.#log.error({ err: { message: describe(err), code: (err as { code?: unknown }).code } }, 'pool could not open a connection');
  }
}

/** Builds a pool; call `start()` before use. */
export function createPool(options: PoolOptions): ConnectionPool {
  return new ConnectionPool(options);
}

function isConnectionLevel(err: unknown): boolean {
  return (err instanceof AppError && err.code === 'DB_UNAVAILABLE') || isConnectionError(err);
}

/** Maps driver errors to catalogue errors where the client should see a 503; passes the rest through. */
function translate(err: unknown, conn: PooledConnection): unknown {
  if ((err as { code?: unknown }).code === '57014') {
    return new AppError('QUERY_TIMEOUT', 'the query exceeded the statement timeout and was cancelled', { retryAfterSeconds: 1 }, { cause: err });
  }
  if (isConnectionError(err)) {
    conn.broken = true;
    return new AppError('DB_UNAVAILABLE', 'the database connection was lost', { retryAfterSeconds: 1 }, { cause: err });
  }
  return err;
}

/** An error's message without anything that could carry a connection string. */
function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/postgres(ql)?:\/\/[^\s]+/gi, '<url>');
}
