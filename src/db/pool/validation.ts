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
 */
import { withDeadline } from '../../async/deadline.ts';
import type { PooledConnection } from './connection.ts';
import type { PoolCounters } from './counters.ts';
import { severSocket } from './silence.ts';

const VALIDATE_TIMEOUT_MS = 1000;

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
