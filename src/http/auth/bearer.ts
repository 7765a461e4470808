/**
 * Bearer-token checks for the operator surfaces (/metrics, /admin/*).
 *
 * Both sides are hashed before the constant-time comparison, so neither the
 * token's content nor its length leaks through response timing.
 *
 * @example
 * if (!bearerMatches(request.headers.authorization, config.admin.token)) throw new AppError('UNAUTHORIZED');
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The token in an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** True when the header carries exactly `expected`. */
export function bearerMatches(header: string | undefined, expected: string): boolean {
  const presented = bearerToken(header);
  if (presented === undefined) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}
