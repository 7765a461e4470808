/**
 * Bearer-token checking for operator routes, in constant time.
 *
 * Both sides are hashed to SHA-256 before `timingSafeEqual`, so neither the
 * token's content nor its length shows in how long a wrong guess takes
 * (`timingSafeEqual` itself throws on different lengths, and an early length
 * check would leak the length).
 *
 * @example
 * const allowed = bearerCheck(config.admin.token);
 * allowed(request.headers.authorization); // true only for `Bearer <token>`
 */
import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * A predicate over `Authorization` header values; always false when `token` is unset.
 *
 * @example
 * bearerCheck('s3cret')('Bearer s3cret'); // true
 */
export function bearerCheck(token: string | undefined): (authorization: string | undefined) => boolean {
  const expected = token === undefined ? undefined : digest(token);
  return function isAuthorized(authorization: string | undefined): boolean {
    if (expected === undefined || authorization === undefined) return false;
    const match = /^Bearer +(\S+) *$/i.exec(authorization);
    const presented = digest(match?.[1] ?? '');
    // Compare even for a malformed header, so it costs what a wrong token costs.
    return timingSafeEqual(presented, expected) && match !== null;
  };
}
