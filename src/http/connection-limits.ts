/**
 * Bounds on what one client's connection may cost: how long a request may
 * take to arrive, how long an idle keep-alive socket stays open, and how
 * many sockets the process holds at once (issue 13, finding 1).
 *
 * Fastify 5 sets `requestTimeout` to 0, which turns off Node's own bound, so
 * a client sending one byte every few seconds held a socket (and, while its
 * body was being read, a request) for as long as it liked. Node's parser
 * enforces the bounds once they are set; it checks its connections every
 * `connectionsCheckingInterval` (30 s by default), which would let a request
 * overrun a 30 s bound by up to 30 s, so the interval is derived from the
 * bounds here. What a timed-out client is answered lives in error-handler.ts.
 *
 * The connection cap is Node's `server.maxConnections`: past it, a new
 * socket is closed as soon as it is accepted, before any byte is read, and
 * the server emits 'drop', which /metrics counts.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';

export interface ConnectionSettings {
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** 0: derived from the open-file limit ({@link defaultMaxConnections}). */
  maxConnections: number;
}

/**
 * Fastify's server options for the bounds.
 *
 * @example
 * Fastify({ ...timeoutOptions(config.server), loggerInstance });
 */
export function timeoutOptions(settings: ConnectionSettings) {
  const tightest = Math.min(settings.headersTimeoutMs, settings.requestTimeoutMs);
  return {
    requestTimeout: settings.requestTimeoutMs,
    keepAliveTimeout: settings.keepAliveTimeoutMs,
    http: {
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      // A tenth of the tightest bound, at most 1 s: a timeout fires at most 10% (or 1 s) late.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(tightest / 10))),
    },
  };
}

/** Descriptors kept for everything that is not a client socket: the pools, Redis, logs, files. */
const RESERVED_SHARE = 0.2;
/** When the limit cannot be read: the usual Linux soft limit. */
const ASSUMED_FD_LIMIT = 1024;

/**
 * The soft limit on open files of this process, from /proc/self/limits
 * (Linux; Node raises its soft limit to the hard one at start, so this is
 * the limit it runs with), or undefined where that file does not exist.
 *
 * @example
 * openFileLimit(); // 1048576 in a default Docker container
 */
export function openFileLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const soft = /^Max open files\s+(\S+)/m.exec(text)?.[1];
  if (soft === undefined) return undefined;
  return soft === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(soft);
}

/**
 * Sockets this process may hold: 80% of its open-file limit (1024 assumed
 * where it cannot be read), so that a flood of connections fails new
 * connections instead of the database pool's next connect or a log write
 * (EMFILE).
 *
 * @example
 * defaultMaxConnections(1024); // 819
 */
export function defaultMaxConnections(fdLimit = openFileLimit() ?? ASSUMED_FD_LIMIT): number {
  return Math.max(1, Math.floor(fdLimit * (1 - RESERVED_SHARE)));
}

/**
 * Applies the connection cap to `server` and reports every refused socket.
 * Returns the cap in force.
 *
 * @example
 * limitConnections(app.server, config.server.maxConnections, () => dropped.inc());
 */
export function limitConnections(server: Server, setting: number, onDrop: () => void): number {
  const cap = setting > 0 ? setting : defaultMaxConnections();
  server.maxConnections = cap;
  server.on('drop', onDrop);
  return cap;
}
