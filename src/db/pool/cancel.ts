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
 * const disarm = armCancel(conn.client, ctx); // cancels at ctx.signal's abort
 * try { await conn.client.query(sql); } finally { disarm(); }
 */
import { connect, type Socket } from 'node:net';
import type pg from 'pg';
import { abandoned } from '../../context/deadline.ts';

/** Cancel requests sent, and those that could not reach the server. */
export const cancelled = { sent: 0, failed: 0 };

interface Backend {
  processID?: number | null;
  secretKey?: number | null;
  host?: string;
  port?: number;
}

/**
 * Sends a CancelRequest for `client`'s running statement; resolves when the
 * server has closed the cancel socket (or after `timeoutMs`). Never rejects.
 */
export function sendCancel(client: pg.Client, timeoutMs = 1000): Promise<void> {
  const backend = client as unknown as Backend;
  const pid = backend.processID;
  const key = backend.secretKey;
  if (pid == null || key == null) return Promise.resolve();
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(pid, 8);
  packet.writeInt32BE(key, 12);
  const host = backend.host ?? 'localhost';
  const port = backend.port ?? 5432;
  return new Promise((resolve) => {
    const socket: Socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    timer.unref();
    socket.once('connect', () => {
      cancelled.sent++;
      socket.end(packet);
    });
    socket.once('error', () => {
      cancelled.failed++;
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Cancels `client`'s statement when `signal` aborts while it runs; returns
 * the disarm to call once the statement settles (so a cancel never reaches
 * the connection's next statement from this request).
 */
export function armCancel(client: pg.Client, signal: AbortSignal, gone: (signal: AbortSignal) => boolean): () => void {
  // Already abandoned: a statement sent now is the caller's choice (a ROLLBACK must run); don't cancel it.
  if (signal.aborted) return () => {};
  let running = true;
  const onAbort = (): void => {
    if (!running) return;
    if (gone(signal)) abandoned.statement++;
    void sendCancel(client);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => {
    running = false;
    signal.removeEventListener('abort', onAbort);
  };
}
