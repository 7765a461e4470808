/**
 * Cancels a running statement on the server, with PostgreSQL's CancelRequest,
 * when its request's deadline passes or its client leaves; the connection is
 * kept (the statement fails with 57014 and the connection is usable again).
 *
 * Why our own: pg 8 has no way to cancel a query from an AbortSignal
 * (brianc/node-postgres#2774); its internal `Client.cancel` is not public
 * and opens a full Connection. The CancelRequest is 16 bytes on a fresh
 * socket (protocol 3, "Canceling Requests in Progress"): length 16, code
 * 80877102, the backend's process id and secret key, sent in clear. A server
 * that accepts only SSL connections (hostssl) refuses it; the statement then
 * runs on until statement_timeout, as before.
 *
 * This differs from the `silence` safety timer, which DESTROYS a connection
 * silent for too long: this one CANCELS one statement at the request's
 * deadline and keeps the connection.
 *
 * @example
 * const disarm = armCancel(conn.client, ctx.signal, gone); // cancels at the abort
 * try { await conn.client.query(sql); } finally { conn.cancelling = disarm(); }
 */
import { connect, type Socket } from 'node:net';
import type pg from 'pg';
import { abandoned } from '../../context/deadline.ts';

/** Cancel requests sent, and those that could not reach the server. */
export const cancelled = { sent: 0, failed: 0 };

/** How long a CancelRequest may take to land; on a healthy server it takes a few ms. */
const CANCEL_TIMEOUT_MS = 1000;

interface Backend {
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
}

/**
 * Sends a CancelRequest for `client`'s running statement. Resolves, never
 * rejects, once the outcome is known: `true` when the connection may be
 * reused (the server took the cancel and closed the socket, or it could not
 * be reached at all), `false` when it is unknown whether the cancel will
 * still land (no close within `timeoutMs`, or an error after connecting).
 */
export function sendCancel(client: pg.Client, timeoutMs = CANCEL_TIMEOUT_MS): Promise<boolean> {
  const backend = client as unknown as Backend;
  const pid = backend.processID;
  const key = backend.secretKey;
  if (pid == null || key == null) return Promise.resolve(true);
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(pid, 8);
  packet.writeInt32BE(key, 12);
  const host = backend.host ?? 'localhost';
  const port = backend.port ?? 5432;
  return new Promise((resolve) => {
    let connected = false;
    let unsure = false;
    const socket: Socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
    const timer = setTimeout(() => {
      unsure = true;
      socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.once('connect', () => {
      connected = true;
      cancelled.sent++;
      socket.end(packet);
    });
    socket.once('error', () => {
      cancelled.failed++;
      if (connected) unsure = true;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(!unsure);
    });
  });
}

/**
 * Cancels `client`'s statement when `signal` aborts while it runs; returns
 * the disarm to call once the statement settles. The disarm returns the
 * cancel still in flight, if one was sent: the statement may have ended on
 * its own (its statement_timeout fires at the same deadline) before the
 * CancelRequest reached the server, and a connection reused before then
 * would see its NEXT statement cancelled. The server ignores a cancel that
 * arrives while the backend is idle, so waiting for the cancel socket to
 * close (the postmaster has signalled the backend) is enough; a cancel
 * whose fate is unknown costs the connection instead (sendCancel).
 * `cancelled` is told once a cancel is sent (the silence guard then waits
 * less for the answer: silence.ts).
 */
export function armCancel(
  client: pg.Client,
  signal: AbortSignal,
  gone: (signal: AbortSignal) => boolean,
  timeoutMs?: number,
  cancelled?: () => void,
): () => Promise<boolean> | undefined {
  // Already abandoned: a statement sent now is the caller's choice (a ROLLBACK must run); don't cancel it.
  if (signal.aborted) return () => undefined;
  let running = true;
  let inFlight: Promise<boolean> | undefined;
  const onAbort = (): void => {
    if (!running) return;
    if (gone(signal)) abandoned.statement++;
    inFlight = sendCancel(client, timeoutMs);
    cancelled?.();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    running = false;
    signal.removeEventListener('abort', onAbort);
    return inFlight;
  };
}
