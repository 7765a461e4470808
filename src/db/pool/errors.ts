/**
 * The pool's errors: the catalogue errors it raises, and the translation of
 * driver errors into the ones a client should see as a 503.
 *
 * `translate` is pure: it says whether the connection was lost and leaves
 * marking the connection to its caller, so the rule can be tested alone.
 */
import { DeadlineError } from '../../async/deadline.ts';
import { AppError, isAppError } from '../../errors/app-error.ts';
import { isConnectionError } from './connection.ts';

const RETRY = { retryAfterSeconds: 1 };

export function poolClosed(): AppError {
  return new AppError('POOL_CLOSED', 'the pool is shutting down', RETRY);
}

export function databaseUnreachable(cause: unknown): AppError {
  return new AppError('DB_UNAVAILABLE', 'the database is unreachable', RETRY, { cause });
}

/** The database has not answered a statement within our bound (silence.ts); `what` says which. */
export function databaseSilent(what: string): AppError {
  return new AppError('DB_UNAVAILABLE', `the database did not answer ${what}`, RETRY, { cause: SILENT });
}

const SILENT = Symbol('the database did not answer');

/**
 * True when the database was unavailable because a bound of ours ran out
 * (a statement or a connect not answered), not because the server or the
 * kernel said so: the path to the server is silent, and a fresh connection
 * would only wait out the same silence.
 */
export function isSilence(err: unknown): boolean {
  return isAppError(err, 'DB_UNAVAILABLE') && (err.cause === SILENT || err.cause instanceof DeadlineError);
}

/** Several hosts and none selected (the primary was lost, no other found yet) within the acquire's bound. */
export function noHostYet(): AppError {
  return new AppError('DB_UNAVAILABLE', 'no primary database host is available yet (failover in progress)', RETRY, { cause: NO_HOST });
}

const NO_HOST = Symbol('no host selected');

/** True for {@link noHostYet}'s error: the acquire was held for its whole bound already. */
export function isNoHostYet(err: unknown): boolean {
  return isAppError(err, 'DB_UNAVAILABLE') && err.cause === NO_HOST;
}

export function poolTimeout(acquireTimeoutMs: number): AppError {
  return new AppError('POOL_TIMEOUT', `no connection became free within ${acquireTimeoutMs} ms`, RETRY);
}

export function queueFull(waiting: number): AppError {
  return new AppError('POOL_QUEUE_FULL', `${waiting} requests are already waiting for a connection`, RETRY);
}

/** CoDel refused a new waiter (codel.ts): the queue's delay stayed above its target. */
export function poolOverloaded(priority: string, retryAfterSeconds = 1): AppError {
  return new AppError('POOL_OVERLOADED', `the connection queue is overloaded; ${priority} requests are shed`, { retryAfterSeconds });
}

export function poolExhausted(limit: number): AppError {
  return new AppError('POOL_EXHAUSTED', `all ${limit} connections are busy`, RETRY);
}

/** What a statement's failure means: the error to throw, and whether its connection (or its host's role) is gone. */
export interface Verdict {
  error: unknown;
  connectionLost: boolean;
  /** 25006 read_only_sql_transaction: a write reached a host that is (now) read-only, e.g. a demoted primary. */
  hostDemoted?: boolean;
}

/** Maps driver errors to catalogue errors where the client should see a 503; passes the rest through. */
export function translate(err: unknown): Verdict {
  if ((err as { code?: unknown } | undefined)?.code === '57014') {
    const error = new AppError('QUERY_TIMEOUT', 'the query exceeded the statement timeout and was cancelled', RETRY, { cause: err });
    return { error, connectionLost: false };
  }
  if ((err as { code?: unknown } | undefined)?.code === '25006') {
    const error = new AppError('DB_UNAVAILABLE', 'the database host is read-only (failover in progress)', RETRY, { cause: err });
    return { error, connectionLost: false, hostDemoted: true };
  }
  if (isConnectionError(err)) {
    return { error: new AppError('DB_UNAVAILABLE', 'the database connection was lost', RETRY, { cause: err }), connectionLost: true };
  }
  return { error: err, connectionLost: false };
}

/** True when the error leaves the connection unusable, translated or not. */
export function isConnectionLevel(err: unknown): boolean {
  return isAppError(err, 'DB_UNAVAILABLE') || isConnectionError(err);
}

/** An error's message without anything that could carry a connection string. */
export function describe(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/postgres(ql)?:\/\/[^\s]+/gi, '<url>');
}

/** `start()` could open none of its `min` connections. */
export function cannotStart(reason: unknown): AppError {
  return new AppError('DB_UNAVAILABLE', `could not open any connection: ${describe(reason)}`, {}, { cause: reason });
}
