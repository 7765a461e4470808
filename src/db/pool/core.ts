/**
 * The pool's rules for handing out connections, over the live collections:
 * every connection (`all`), the idle stack and the wait queue.
 *
 * In the order a request meets them:
 * - an idle connection is reused last-in, first-out (the warmest one), and is
 *   validated first if it is suspect (see validation.ts);
 * - otherwise the pool grows towards `max`, and the request waits first-in,
 *   first-out for the next free connection, at most `acquireTimeoutMs`;
 * - with `queueMax` requests already waiting, the next is refused at once;
 *   in `nowait` mode a request that would have to wait is refused at once.
 * A connection is recycled when returned after its (jittered) lifetime,
 * discarded when broken, and closed after `idleTimeoutMs` above `min`.
 * With several hosts (src/db/hosts) a connection of a lost host's generation
 * is never handed out again, and waiters are held while no host is selected.
 */
import { withDeadline } from '../../async/deadline.ts';
import type { Logger } from '../../log/logger.ts';
import type { PooledConnection } from './connection.ts';
import { PoolCounters } from './counters.ts';
import { HostUnavailableError } from '../hosts/selector.ts';
import {
  cannotStart,
  databaseUnreachable,
  noHostYet,
  poolClosed,
  poolExhausted,
  poolOverloaded,
  poolTimeout,
  queueFull,
} from './errors.ts';
import { startHousekeeping } from './housekeeping.ts';
import { Opener } from './opener.ts';
import type { PoolOptions } from './pool.ts';
import { needsValidation, suspectAll, validatedOrNext } from './validation.ts';
import { PriorityWaitQueue, type Waiter } from './wait-queue.ts';
import { boundWait, createWaitEstimate, poolWaitLeftMs, refuseLate, type AcquireRequest } from './acquire-bound.ts';
import { deadlineExceeded } from '../../context/deadline.ts';
import { rank, type Priority } from '../../context/priority.ts';
import { isAppError } from '../../errors/app-error.ts';
import { highReserve, type Codel } from './codel.ts';

export type { AcquireRequest } from './acquire-bound.ts';

/** PoolOptions with every default filled in. */
type Unresolved = 'onQuery' | 'limiter' | 'overload' | 'retryBudget' | 'hosts' | 'observer' | 'cancelTimeoutMs';
export type ResolvedOptions = Required<Omit<PoolOptions, Unresolved>> & Pick<PoolOptions, Unresolved>;

/** Overload control of the queue: CoDel (absent: FIFO, no shedding by delay), and the share of the limit kept for `high`. */
export interface OverloadControl {
  codel?: Codel | undefined;
  highReserveShare: number;
}

export class PoolCore {
  readonly min: number;
  readonly max: number;
  readonly all = new Set<PooledConnection>();
  /** Warmest last; the coldest, at index 0, is the first closed when idle too long. */
  readonly idle: PooledConnection[] = [];
  readonly waiters = new PriorityWaitQueue<PooledConnection>();
  readonly counters: PoolCounters;

  #opts: ResolvedOptions;
  #log: Logger;
  #opener: Opener;
  #closed = false;
  #expectedWait = createWaitEstimate();
  #stopHousekeeping: (() => void) | undefined;
  #drained: (() => void) | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: ResolvedOptions) {
    this.min = options.min;
    this.max = options.max;
    this.#opts = options;
    this.#log = options.logger;
    this.counters = new PoolCounters(options.min, options.max, this);
    this.#opener = new Opener(options, this.counters, this.all, (conn) => this.#onBroken(conn));
    // Several hosts: a loss evicts the idle connections to the lost host at once (leased ones go on
    // release); a new selection opens connections for the held waiters without waiting out a backoff.
    this.#unsubscribe = options.hosts?.subscribe((event) => {
      if (this.#closed) return;
      if (event === 'lost') for (const conn of this.idle.filter((c) => this.#stale(c))) void this.destroy(conn);
      else this.#opener.stop(); // a backoff scheduled against the lost host is moot
      this.replenish();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }
  get pending(): number {
    return this.#opener.pending;
  }
  get active(): number {
    return this.all.size - this.idle.length;
  }
  get limit(): number {
    const adaptive = this.#opts.limiter?.limit;
    return adaptive === undefined ? this.max : Math.min(adaptive, this.max);
  }

  /** Opens `min` connections; rejects only when none could be opened. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(Array.from({ length: this.min }, () => this.open()));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.min > 0 && failed.length === this.min) {
      await this.close(0);
      throw cannotStart(failed[0]!.reason);
    }
    for (const r of results) if (r.status === 'fulfilled') this.makeAvailable(r.value);
    if (failed.length > 0) this.scheduleReplenish();
    this.#stopHousekeeping = startHousekeeping(this, { ...this.#opts, counters: this.counters });
    const o = this.#opts;
    this.#log.info(
      { pool: { min: o.min, max: o.max, size: this.all.size, queueMax: o.queueMax, getMode: o.getMode } },
      `pool ready: min ${o.min}, max ${o.max}, timeout ${o.acquireTimeoutMs / 1000}s, recycle ${o.recycleMs / 1000}s`,
    );
  }

  open(): Promise<PooledConnection> {
    return this.#opener.open();
  }

  acquire(request: AcquireRequest = {}): Promise<PooledConnection> {
    if (this.#closed) return Promise.reject(poolClosed());
    const priority = request.priority ?? 'normal';
    const refused = refuseLate(request, this.waiters.length > 0 ? this.#expectedWait.ms : 0);
    if (refused !== undefined) return Promise.reject(this.#counted(refused, priority));
    this.counters.acquires++;
    const limit = this.limit - (rank(priority) >= rank('high') ? 0 : this.#reserve());
    // Never overtake a waiter, and never exceed the (adaptive) limit.
    // An urgent request only yields to urgent waiters: the rest wait outside the reserve it may use.
    const ahead = rank(priority) >= rank('high') ? this.waiters.urgent : this.waiters.length;
    const idle = this.active < limit && ahead === 0 ? this.#takeIdle() : undefined;
    if (idle !== undefined) {
      if (!needsValidation(idle, this.#opts.validateAfterIdleMs)) return Promise.resolve(idle);
      return validatedOrNext(this, idle, { ...request, since: request.since ?? performance.now() }, this.#opts.acquireTimeoutMs);
    }
    const canGrow = this.all.size + this.pending < this.max && this.active + this.pending < limit;
    if (this.#opts.getMode === 'nowait' && !canGrow) {
      this.counters.exhausted++;
      return Promise.reject(poolExhausted(limit));
    }
    const oldest = this.waiters.oldestEnqueuedAt();
    const codel = this.#opts.overload?.codel;
    if (codel !== undefined && !codel.admit(priority, oldest === undefined ? 0 : Date.now() - oldest, this.waiters.aboveLow)) {
      this.counters.shed[priority]++;
      return Promise.reject(poolOverloaded(priority));
    }
    if (this.waiters.length >= this.#opts.queueMax) {
      this.counters.queueFull++;
      return Promise.reject(queueFull(this.waiters.length));
    }
    // Waited its whole timeout already (for a batch's turn, or validating): no queue place, no connect for it.
    if (poolWaitLeftMs(request, this.#opts.acquireTimeoutMs) <= 0) {
      this.counters.timeouts++;
      return Promise.reject(poolTimeout(this.#opts.acquireTimeoutMs));
    }
    return new Promise<PooledConnection>((resolveRaw, rejectRaw) => {
      const { resolve, reject } = this.#holdAccounting(resolveRaw, (err) => rejectRaw(this.#counted(err, priority)));
      const bounded = boundWait(request, this.#opts.acquireTimeoutMs, resolve, reject, () => {
        this.waiters.remove(waiter);
        clearTimeout(waiter.timer);
      });
      const waiter: Waiter<PooledConnection> = { ...bounded, timer: undefined, enqueuedAt: Date.now(), settled: false };
      waiter.timer = setTimeout(() => {
        this.waiters.remove(waiter);
        this.counters.timeouts++;
        // Held for a primary that never came: the database, not the pool, is what is missing.
        if (this.#opts.hosts !== undefined && this.#opts.hosts.current() === undefined) bounded.reject(noHostYet());
        else bounded.reject(bounded.byDeadline ? deadlineExceeded('waiting for a connection') : poolTimeout(this.#opts.acquireTimeoutMs));
      }, bounded.waitMs);
      this.waiters.push(waiter, priority);
      // Open only as many new connections as there are waiters to serve.
      if (canGrow && this.pending < this.waiters.length) this.#grow();
    });
  }

  /** Takes a connection back; an error (or a broken, closed or expired state) discards it. */
  release(conn: PooledConnection, err?: unknown): void {
    const cancelling = conn.cancelling;
    if (cancelling !== undefined) {
      // Busy until its CancelRequest has reached the server (cancel.ts); never rejects.
      conn.cancelling = undefined;
      void cancelling.then((reusable) => {
        if (!reusable) conn.broken = true;
        this.release(conn, err);
      });
      return;
    }
    conn.leaseSite = undefined;
    if (err !== undefined && err !== null) conn.broken = true;
    const expired = !conn.broken && !this.#closed && Date.now() >= conn.expiresAt;
    if (conn.broken || this.#closed || expired || this.#stale(conn)) {
      if (expired) this.counters.recycled++;
      void this.destroy(conn);
      this.replenish();
      return;
    }
    conn.lastReleasedAt = Date.now();
    this.makeAvailable(conn);
  }

  /** A statement's execution time, for the adaptive limit; serves waiters if the limit rose. */
  sample(durationMs: number): void {
    const limiter = this.#opts.limiter;
    if (limiter === undefined) return;
    const before = this.limit;
    limiter.onSample(durationMs, this.active);
    if (this.limit > before) this.#dispatch();
  }

  /** A statement's connection was lost: the idle ones may have died with it. */
  connectionLost(conn: PooledConnection): void {
    conn.broken = true;
    suspectAll(this.idle);
    // Several hosts: the selected one may be gone; the selector re-probes and the generation evicts the rest.
    if (conn.host !== undefined) this.#opts.hosts?.lost(conn.host);
  }

  /** A write was refused as read-only (25006): the host was demoted. Multi-host only; one host keeps its connection. */
  hostDemoted(conn: PooledConnection): void {
    if (conn.host === undefined) return;
    conn.broken = true;
    this.#opts.hosts?.lost(conn.host);
  }

  /** Hands a free connection to the oldest waiter, or parks it as idle. */
  makeAvailable(conn: PooledConnection): void {
    // `conn` is not idle, so `active` counts it: hand it over only if the
    // waiter would still be within the limit, else park it.
    const waiter = this.active - 1 < this.limit ? this.#next(this.active - 1) : undefined;
    if (waiter !== undefined) this.#serve(waiter, conn);
    else this.idle.push(conn);
  }

  /** Opens connections to keep `min`, and to serve waiters within the limit. */
  replenish(): void {
    if (this.#closed) return;
    const short = Math.max(this.min - this.all.size - this.pending, 0);
    const forWaiters = Math.max(Math.min(this.waiters.length, this.limit - this.active) - this.pending, 0);
    const room = this.max - this.all.size - this.pending;
    for (let i = Math.min(Math.max(short, forWaiters), room); i > 0; i--) this.#grow();
  }

  scheduleReplenish(): void {
    if (!this.#closed) this.#opener.scheduleRetry(() => this.replenish());
  }

  destroy(conn: PooledConnection): Promise<void> {
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    if (!this.all.delete(conn)) return Promise.resolve();
    this.counters.destroyed++;
    if (this.all.size === 0) this.#drained?.();
    return conn.client.end().catch(() => {});
  }

  /**
   * Stops handing out connections, waits up to `timeoutMs` for leased ones
   * to come back, then closes everything. Waiting requests get POOL_CLOSED.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed && this.all.size === 0) return;
    this.#closed = true;
    this.#unsubscribe?.();
    this.#stopHousekeeping?.();
    this.#opener.stop();
    this.#rejectWaiters(poolClosed);
    for (const conn of this.idle.splice(0)) void this.destroy(conn);
    if (this.all.size > 0 && timeoutMs > 0) {
      const drained = new Promise<void>((resolve) => (this.#drained = resolve));
      // Past the deadline the leased connections are closed under their holders.
      await withDeadline(drained, timeoutMs, 'draining the pool').catch(() => {});
    }
    this.#drained = undefined;
    await Promise.all([...this.all].map((conn) => this.destroy(conn)));
  }

  /** Connections kept for `high` and `critical` (never all of them); none without overload control. */
  #reserve(): number {
    const share = this.#opts.overload?.highReserveShare;
    return share === undefined || share === 0 ? 0 : Math.min(highReserve(this.limit, share), this.limit - 1);
  }

  /** The next waiter for a connection when `leased` are out: newest first while CoDel drops; only urgent ones inside the reserve. */
  #next(leased: number): Waiter<PooledConnection> | undefined {
    return this.waiters.shift({ rest: leased < this.limit - this.#reserve(), lifo: this.#opts.overload?.codel?.lifo ?? false });
  }

  #serve(waiter: Waiter<PooledConnection>, conn: PooledConnection): void {
    // The oldest wait, not the served one: served newest-first, a waiter's own wait would end dropping at once.
    const remaining = this.waiters.oldestEnqueuedAt();
    // The last waiter served: no queue stands any more, so CoDel (and its gauges) stop dropping now, not at the next arrival.
    this.#opts.overload?.codel?.onDequeue(remaining === undefined ? 0 : Date.now() - Math.min(waiter.enqueuedAt, remaining));
    this.#expectedWait.observe(Date.now() - waiter.enqueuedAt, this.waiters.length);
    serve(waiter, conn);
  }

  /** Counts a wait the request's deadline ended (holdfast_db_pool_shed_total{reason="deadline"}). */
  #counted(err: Error, priority: Priority): Error {
    if (isAppError(err, 'DEADLINE_EXCEEDED')) this.counters.deadlineShed[priority]++;
    return err;
  }

  #takeIdle(): PooledConnection | undefined {
    for (let conn = this.idle.pop(); conn !== undefined; conn = this.idle.pop()) {
      if (!conn.broken && !this.#stale(conn)) return conn;
      void this.destroy(conn);
    }
    return undefined;
  }

  /** After the limit rose: serve waiters from idle connections, or grow for them. */
  #dispatch(): void {
    while (this.waiters.length > 0 && this.active < this.limit) {
      const conn = this.#takeIdle();
      if (conn === undefined) {
        this.replenish();
        return;
      }
      const waiter = this.#next(this.active);
      if (waiter === undefined) {
        this.idle.push(conn);
        return;
      }
      this.#serve(waiter, conn);
    }
  }

  #grow(): void {
    this.open().then(
      (conn) => {
        if (this.#closed) void this.destroy(conn);
        else this.makeAvailable(conn);
      },
      (err: unknown) => {
        if (this.#closed) return;
        if (this.#opts.hosts !== undefined) {
          // Several hosts: the selector is probing for another; waiters stay held until their own deadline.
          // Waiting for a host paced this attempt already (it waited the connect timeout): try again now.
          if (err instanceof HostUnavailableError) this.replenish();
          else this.scheduleReplenish();
          return;
        }
        // With nothing alive, no release will ever serve the waiters: tell
        // them now rather than let them sit out the full timeout.
        if (this.all.size === 0 && this.pending === 0) this.#rejectWaiters(() => databaseUnreachable(err));
        this.scheduleReplenish();
      },
    );
  }

  /** Opened to a host the selector has since lost (an older generation): never handed out again. */
  #stale(conn: PooledConnection): boolean {
    const hosts = this.#opts.hosts;
    return hosts !== undefined && conn.host !== undefined && conn.hostGeneration !== hosts.generation();
  }

  /** Counts an acquire that waits while no host is selected (held), and its hold time once settled. */
  #holdAccounting<T>(resolve: (v: T) => void, reject: (e: Error) => void): { resolve: (v: T) => void; reject: (e: Error) => void } {
    const hosts = this.#opts.hosts;
    if (hosts === undefined || hosts.current() !== undefined) return { resolve, reject };
    this.counters.held++;
    const heldAt = performance.now();
    const done = () => this.counters.holdWait.record(performance.now() - heldAt);
    return {
      resolve: (v) => {
        done();
        resolve(v);
      },
      reject: (e) => {
        done();
        reject(e);
      },
    };
  }

  /** A connection's socket died. Idle ones go now; leased ones go on release. */
  #onBroken(conn: PooledConnection): void {
    // Our own close (recycle, idle timeout) ends the client too: that is no news about the server.
    if (this.#closed || !this.all.has(conn)) return;
    suspectAll(this.idle);
    if (conn.host !== undefined) this.#opts.hosts?.lost(conn.host);
    if (!this.idle.includes(conn)) return;
    void this.destroy(conn);
    this.replenish();
  }

  /** One error each: a request's error is its own. */
  #rejectWaiters(error: () => Error): void {
    for (let w = this.waiters.shift(); w; w = this.waiters.shift()) {
      clearTimeout(w.timer);
      w.reject(error());
    }
  }
}

function serve(waiter: Waiter<PooledConnection>, conn: PooledConnection): void {
  clearTimeout(waiter.timer);
  waiter.resolve(conn);
}
