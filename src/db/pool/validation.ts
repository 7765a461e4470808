/**
 * Validation of idle connections that may be dead: one `SELECT 1` round
 * trip, bounded in time, before such a connection is handed out.
 *
 * A connection is suspect when it sat idle longer than `validateAfterIdleMs`
 * (a firewall or the server may have dropped it silently), or when another
 * connection broke while it sat idle: a server restart, a mass
 * pg_terminate_backend or a proxy dropping sockets kills siblings too,
 * before their own error has been read off the socket. Until each proves
 * alive, none is handed out as it is: the next requests, writes among them,
 * would fail on a corpse instead.
 *
 * A validation is part of the acquire's wait for a connection, so it runs
 * within the acquire's bound (what is left of DB_POOL_TIMEOUT, or the
 * request's deadline if sooner), and so does the acquire that goes on after
 * a dead one: on a silent server a string of suspects would otherwise cost a
 * validation each. A validation still running when that bound passes goes
 * on deciding its connection; only the caller stops waiting for it.
 */
import { withDeadline } from '../../async/deadline.ts';
import { deadlineExceeded } from '../../context/deadline.ts';
import { waitBound, type AcquireRequest } from './acquire-bound.ts';
import type { PooledConnection } from './connection.ts';
import type { PoolCounters } from './counters.ts';
import { poolTimeout } from './errors.ts';
import { severSocket } from './silence.ts';

/** The bound of one `SELECT 1` on a connection that may be silent. */
export const VALIDATE_TIMEOUT_MS = 1000;

export function needsValidation(conn: PooledConnection, validateAfterIdleMs: number, now = Date.now()): boolean {
  return conn.suspect || now - conn.lastReleasedAt > validateAfterIdleMs;
}

/** Marks every idle connection suspect, after one broke. */
export function suspectAll(idle: Iterable<PooledConnection>): void {
  for (const conn of idle) conn.suspect = true;
}

/** True when the connection answered in time; a dead one is marked broken. Counts both outcomes. */
export async function validate(conn: PooledConnection, counters: PoolCounters): Promise<boolean> {
  counters.validations++;
  try {
    await withDeadline(conn.client.query('SELECT 1'), VALIDATE_TIMEOUT_MS, 'connection validation');
    conn.suspect = false;
    return true;
  } catch {
    counters.validationFailures++;
    conn.broken = true;
    // A silent socket would keep `client.end()` waiting: cut it.
    severSocket(conn.client);
    return false;
  }
}

/** The parts of the pool an acquire that validates works with. */
export interface ValidatingPool {
  readonly idle: PooledConnection[];
  readonly counters: PoolCounters;
  acquire(request: AcquireRequest): Promise<PooledConnection>;
  /** Gives back a connection that proved alive after its acquire stopped waiting. */
  release(conn: PooledConnection): void;
  destroy(conn: PooledConnection): Promise<void>;
}

/**
 * `conn` once it answers; if it is dead, its idle siblings become suspect
 * and the acquire goes on for another, both within `request`'s bound.
 *
 * @example
 * return needsValidation(idle, validateAfterIdleMs) ? validatedOrNext(pool, idle, { ...request, since }, acquireTimeoutMs) : idle;
 */
export async function validatedOrNext(
  pool: ValidatingPool,
  conn: PooledConnection,
  request: AcquireRequest & { since: number },
  acquireTimeoutMs: number,
): Promise<PooledConnection> {
  const validation = validate(conn, pool.counters).then((alive) => {
    // Silent or dead: its idle siblings to the same server may be too.
    if (!alive) {
      suspectAll(pool.idle);
      void pool.destroy(conn);
    }
    return alive;
  });
  const { waitMs, byDeadline } = waitBound(request, acquireTimeoutMs);
  let alive: boolean;
  try {
    alive = await withDeadline(validation, waitMs, 'connection validation');
  } catch {
    // The acquire's bound passed first: the validation still decides the connection.
    void validation.then((ok) => ok && pool.release(conn));
    if (byDeadline) throw deadlineExceeded('waiting for a connection');
    pool.counters.timeouts++;
    throw poolTimeout(acquireTimeoutMs);
  }
  if (alive) return conn;
  pool.counters.acquires--; // the acquire below counts it again
  return pool.acquire(request);
}
