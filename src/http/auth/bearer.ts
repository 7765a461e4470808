/**
 * The one reading of `Authorization: Bearer <credential>` (operator tokens,
 * API_KEYS, and API keys in RATE_LIMIT_ALLOW), and bearer-token checking
 * for operator routes, in constant time.
 *
 * The credential is one run of visible ASCII characters (RFC 5234 VCHAR),
 * not only RFC 6750's b64token: API_KEYS accepts every visible character
 * but its separators (`,` and `:`), so a narrower reading here would
 * accept a key in config that no request could ever present.
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

// RFC 7235: the scheme is case-insensitive and followed by one or more spaces.
const CREDENTIAL = /^[\x21-\x7e]+$/;
const BEARER = /^Bearer +([\x21-\x7e]+) *$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The credential in an `Authorization: Bearer <credential>` value, if that is what it is.
 *
 * @example
 * bearerToken('Bearer s3cret');     // 's3cret'
 * bearerToken('Basic dXNlcg==');    // undefined
 * bearerToken('Bearer two words');  // undefined
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

/**
 * Whether `value` could be presented as a bearer credential at all, e.g. to
 * refuse at start an allow-list entry that no request could ever match.
 *
 * @example
 * isBearerCredential('k!#$0123'); // true
 * isBearerCredential('two words'); // false
 */
export function isBearerCredential(value: string): boolean {
  return CREDENTIAL.test(value);
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
    const presented = bearerToken(authorization);
    // Compare even for a malformed header, so it costs what a wrong token costs.
    return timingSafeEqual(digest(presented ?? ''), expected) && presented !== undefined;
  };
}
