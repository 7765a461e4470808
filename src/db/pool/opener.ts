/**
 * Opening connections for the pool: connect with a bounded timeout, give
 * each a jittered lifetime, count the attempt, and back off between retries
 * while the database is unreachable.
 *
 * A new connection joins the pool's set in the same turn its pending slot is
 * given back, so `size + pending` never dips and the pool never overshoots
 * `max`. Connect errors are logged at most once per 5 s: an outage must not
 * flood the log, and the message is scrubbed of connection strings.
 */
import type { Logger } from '../../log/logger.ts';
import { PooledConnection, openClient, type ConnectOptions } from './connection.ts';
import type { PoolCounters } from './counters.ts';
import type { HostConfig } from '../hosts/url.ts';
import { describe } from './errors.ts';
import type { PoolObserver } from './pool.ts';

export interface OpenerOptions extends ConnectOptions {
  recycleMs: number;
  /** Fraction of the lifetime taken off at random, so connections don't all recycle together. */
  recycleJitter: number;
  logger: Logger;
  /** Told how long each new connection took to open. */
  observer?: PoolObserver | undefined;
}

const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5000;
const ERROR_LOG_EVERY_MS = 5000;

/** A lifetime between `recycleMs × (1 − jitter)` and `recycleMs`. */
export function jitteredLifetime(recycleMs: number, jitter: number, random: () => number = Math.random): number {
  return recycleMs * (1 - random() * jitter);
}

export class Opener {
  #opts: OpenerOptions;
  #counters: PoolCounters;
  #all: Set<PooledConnection>;
  #onBroken: (conn: PooledConnection) => void;
  #pending = 0;
  #nextId = 1;
  #backoffMs = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #lastErrorLog = 0;

  constructor(opts: OpenerOptions, counters: PoolCounters, all: Set<PooledConnection>, onBroken: (conn: PooledConnection) => void) {
    this.#opts = opts;
    this.#counters = counters;
    this.#all = all;
    this.#onBroken = onBroken;
  }

  /** Connections being opened now. */
  get pending(): number {
    return this.#pending;
  }

  /** Opens one connection and adds it to the pool's set; rejects on failure. */
  async open(): Promise<PooledConnection> {
    this.#pending++;
    const connectStartedAt = performance.now();
    const hosts = this.#opts.hosts;
    let host: HostConfig | undefined;
    try {
      // Multi-host: wait (held) for a selected host, bounded by the connect timeout.
      host = hosts === undefined ? undefined : await hosts.waitForHost(Date.now() + this.#opts.connectTimeoutMs);
      const hostGeneration = hosts?.generation() ?? 0;
      const opening = performance.now();
      const client = await openClient(host === undefined ? this.#opts : { ...this.#opts, connectionString: host.connectionString });
      const openMs = performance.now() - opening;
      const lifetime = jitteredLifetime(this.#opts.recycleMs, this.#opts.recycleJitter);
      const conn = new PooledConnection(this.#nextId++, client, Date.now(), lifetime, this.#onBroken);
      conn.connectStartedAt = connectStartedAt;
      conn.host = host;
      conn.hostGeneration = hostGeneration;
      this.#all.add(conn);
      this.#counters.created++;
      this.#backoffMs = 0;
      this.#opts.observer?.connected(openMs);
      return conn;
    } catch (err) {
      this.#counters.connectErrors++;
      if (host !== undefined) hosts?.lost(host);
      this.#logError(err);
      throw err;
    } finally {
      this.#pending--;
    }
  }

  /** Calls `retry` after a backoff that doubles from 100 ms to 5 s; one retry is scheduled at a time. */
  scheduleRetry(retry: () => void): void {
    if (this.#retryTimer !== undefined) return;
    this.#backoffMs = Math.min(MAX_BACKOFF_MS, this.#backoffMs === 0 ? FIRST_BACKOFF_MS : this.#backoffMs * 2);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      retry();
    }, this.#backoffMs);
    this.#retryTimer.unref();
  }

  stop(): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #logError(err: unknown): void {
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_EVERY_MS) return;
    this.#lastErrorLog = now;
    this.#opts.logger.error(
      { err: { message: describe(err), code: (err as { code?: unknown }).code } },
      'pool could not open a connection',
    );
  }
}
