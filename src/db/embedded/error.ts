/**
 * The one error type embedded Postgres start-up throws for problems an
 * operator can fix, so callers can branch on `reason` instead of parsing text.
 * Messages never contain the password.
 */

/**
 * Why embedded Postgres did not start.
 *
 * @example
 * const reason: EmbeddedPostgresFailure = 'PORT_IN_USE';
 */
export type EmbeddedPostgresFailure =
  'PORT_IN_USE' | 'ALREADY_RUNNING' | 'NOT_A_CLUSTER' | 'PASSWORD_MISSING' | 'DIR_NOT_TRAVERSABLE' | 'UNSAFE_CACHE_DIR' | 'START_FAILED';

/**
 * Raised when embedded Postgres cannot start; `reason` says why.
 *
 * @example
 * try { await startEmbeddedPostgres(options); }
 * catch (err) { if (err instanceof EmbeddedPostgresError && err.reason === 'PORT_IN_USE') useAnotherPort(); }
 */
export class EmbeddedPostgresError extends Error {
  readonly reason: EmbeddedPostgresFailure;

  constructor(reason: EmbeddedPostgresFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
    this.reason = reason;
  }
}

/** True for the error of a port something else listens on (PORT_IN_USE). */
export function isPortInUse(err: unknown): boolean {
  return err instanceof EmbeddedPostgresError && err.reason === 'PORT_IN_USE';
}
