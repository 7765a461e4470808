/**
 * One physical connection as the pool sees it: a `pg.Client` plus the
 * bookkeeping the pool's rules need (age, idle time, lease, breakage).
 *
 * Every socket has TCP keepalive on, first probe after KEEPALIVE_DELAY_MS of
 * quiet: a peer that vanished without a reset (a frozen host, a firewall
 * dropping packets) is then found by the kernel even on a connection nobody
 * uses, instead of after the ~2 h default. 10 s is well under the idle
 * timeouts of common NATs and cloud load balancers (≥ 60 s), so they never
 * drop a healthy idle connection, and costs one tiny packet per idle
 * connection per 10 s. It is the backstop, not the detector: in-flight
 * statements, validation and connect have client-side deadlines (silence.ts).
 */
import pg from 'pg';
import type { HostSelector } from '../hosts/selector.ts';
import type { HostConfig } from '../hosts/url.ts';
import { DeadlineError, withDeadline } from '../../async/deadline.ts';
import { severSocket, type SilenceGuard } from './silence.ts';

const CONNECT_MARGIN_MS = 500;

export const KEEPALIVE_DELAY_MS = 10_000;

export interface ConnectOptions {
  connectionString: string;
  /** Server-side statement_timeout for every statement on this connection; 0 is off. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  applicationName: string;
  /** Several hosts (src/db/hosts): connect to the one selected, not to connectionString. */
  hosts?: HostSelector;
}

export class PooledConnection {
  readonly id: number;
  readonly client: pg.Client;
  readonly createdAt: number;
  /** When it is due for recycling: created + recycle − jitter. */
  readonly expiresAt: number;
  lastReleasedAt: number;
  leasedAt = 0;
  /** Where the current lease was taken, for the leak warning. Formatted lazily by V8. */
  leaseSite: { stack?: string } | undefined;
  leakReported = false;
  broken = false;
  /** A statement whose caller stopped waiting for it is still unanswered (silence.ts): nothing else may be sent. */
  unanswered = false;
  /** The statement in flight, until it settles or the connection is severed (silence.ts): the host probe's verdict reaches it here. */
  inFlight: SilenceGuard<unknown> | undefined;
  /** Another connection broke while this one sat idle: validate it before handing it out. */
  suspect = false;
  /** When its connect began (`performance.now()`), to tell a connection opened after a failure from one that might share its fate. */
  connectStartedAt = 0;
  /** The host it was opened to and the selector's generation then (multi-host only), so a lost host's connections can be told apart. */
  host: HostConfig | undefined;
  hostGeneration = 0;
  /**
   * A CancelRequest still in flight (cancel.ts): the connection is not reused
   * until it has reached the server, or it could cancel the next statement.
   * Resolves `false` when that is unknown: the connection is then discarded.
   */
  cancelling: Promise<boolean> | undefined;

  constructor(id: number, client: pg.Client, now: number, lifetimeMs: number, onBroken: (conn: PooledConnection) => void) {
    this.id = id;
    this.client = client;
    this.createdAt = now;
    this.expiresAt = now + lifetimeMs;
    this.lastReleasedAt = now;
    // An idle client whose backend dies emits 'error'; without a listener that
    // would crash the process. The pool drops it at once if it is idle, or
    // when it comes back if it is leased.
    const broke = () => {
      if (this.broken) return;
      this.broken = true;
      onBroken(this);
    };
    client.on('error', broke);
    client.on('end', broke);
  }
}

/** Opens and authenticates one client; rejects (never hangs) after connectTimeoutMs. */
export async function openClient(options: ConnectOptions): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: options.connectionString,
    connectionTimeoutMillis: options.connectTimeoutMs,
    application_name: options.applicationName,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    ...(options.statementTimeoutMs > 0 ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // Errors before connect() settles surface through its rejection; this
  // listener only keeps a late socket error from becoming an uncaught one.
  client.on('error', () => {});
  try {
    // pg's own connect timeout, and ours over the whole handshake in case a
    // silent server swallows the startup packet after the socket opened.
    await withDeadline(client.connect(), options.connectTimeoutMs + CONNECT_MARGIN_MS, 'connect');
  } catch (err) {
    severSocket(client);
    client.end().catch(() => {});
    // pg's own timer says 'timeout expired': either way a bound of ours ran out, which is silence (errors.ts isSilence).
    if (err instanceof Error && err.message === 'timeout expired') throw new DeadlineError('connect', options.connectTimeoutMs);
    throw err;
  }
  return client;
}

/**
 * True when an error means the connection itself is unusable: a network
 * failure (no SQLSTATE), a connection exception (class 08), or the server
 * shutting down or terminating the backend (57P01–57P03). Such a connection
 * is discarded; a statement error on a healthy connection is not.
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
  }
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  return CONNECTION_MESSAGE.test(err.message);
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);
// pg's own wording when the socket is gone; it sets no code on these.
const CONNECTION_MESSAGE =
  /connection terminated|connection error|not queryable|client was closed|timeout exceeded when trying to connect|connection ended/i;
