import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.ts';

/** Extra members a problem document may carry beyond the RFC 9457 core. */
export interface ProblemExtras {
  /** Seconds after which a retry may succeed; sent as `Retry-After`. */
  retryAfterSeconds?: number;
  /** The request field at fault, e.g. `query.limit` or `body.items[0].quantity`. */
  field?: string;
  /** Any further machine-readable members. */
  [key: string]: unknown;
}

/**
 * An error whose code is in the catalogue. The HTTP layer turns it into an
 * `application/problem+json` answer; anything else that escapes a handler is
 * logged and answered as `INTERNAL`, never with its message.
 *
 * @example
 * throw new AppError('OUT_OF_STOCK', 'product 7 has 2 left', { productId: 7 });
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly extras: ProblemExtras;

  constructor(code: ErrorCode, detail?: string, extras: ProblemExtras = {}, options?: { cause?: unknown }) {
    super(detail ?? ERROR_CATALOGUE[code].title, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.extras = extras;
  }
}

/** True when `err` is an {@link AppError}, optionally with one of `codes`. */
export function isAppError(err: unknown, ...codes: ErrorCode[]): err is AppError {
  return err instanceof AppError && (codes.length === 0 || codes.includes(err.code));
}
