/**
 * Silence: a server that stops answering without resetting the connection
 * (a frozen host, a firewall dropping packets, an address moved by a cloud
 * failover). No error ever arrives, so waiting is never the answer: every
 * statement gets a client-side deadline of the server's statement_timeout
 * plus a margin. The server cancels a slow statement itself well before
 * that (57014), so reaching the deadline means the server, or the path to
 * it, is gone: the socket is destroyed (never returned to the pool, whose
 * `client.end()` would wait on the same silence), the idle siblings become
 * suspect, and the caller gets 503 DB_UNAVAILABLE with Retry-After.
 *
 * The request-deadline cancel (which keeps the connection) lives beside
 * this in pool.ts; this is only the safety net.
 *
 * @example
 * const rows = await guardSilence(conn, conn.client.query(config), silenceDeadlineMs(10_000), () => core.connectionLost(conn));
 */
import type pg from 'pg';
import { DeadlineError, withDeadline } from '../../async/deadline.ts';
import type { PooledConnection } from './connection.ts';
import { databaseUnreachable } from './errors.ts';

/** Time after statement_timeout the server gets to answer its own cancel, before we call it silent. */
export const SILENCE_MARGIN_MS = 1000;
/** Deadline when statement_timeout is off: silence must still end somewhere. */
export const UNBOUNDED_STATEMENT_DEADLINE_MS = 60_000;

/** The client-side deadline of one statement, given the server's statement_timeout (0 = off). */
export function silenceDeadlineMs(statementTimeoutMs: number): number {
  return statementTimeoutMs > 0 ? statementTimeoutMs + SILENCE_MARGIN_MS : UNBOUNDED_STATEMENT_DEADLINE_MS;
}

/** Destroys a client's socket at once; pg then emits 'end' and fails whatever was pending. */
export function severSocket(client: pg.Client): void {
  const stream = (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream;
  stream?.destroy?.();
}

/**
 * Settles like `work`, or, if the server is silent for `ms`, marks the
 * connection broken, severs it, calls `onSilent` (the pool suspects the
 * siblings) and rejects with 503 DB_UNAVAILABLE.
 */
export async function guardSilence<T>(conn: PooledConnection, work: Promise<T>, ms: number, onSilent: () => void): Promise<T> {
  try {
    return await withDeadline(work, ms, 'the database');
  } catch (err) {
    if (!(err instanceof DeadlineError)) throw err;
    conn.broken = true;
    onSilent();
    severSocket(conn.client);
    work.catch(() => {});
    throw databaseUnreachable(err);
  }
}
