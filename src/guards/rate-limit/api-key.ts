/**
 * API keys as rate-limit identities, without ever holding the key itself.
 *
 * Only a SHA-256 of the presented key is kept, in memory, in Redis keys and
 * in the allow-list, so neither a heap dump, a Redis `KEYS` nor a log line
 * can reveal a key. An unsalted hash is enough: API keys are long random
 * secrets, not guessable passwords.
 */
import { createHash } from 'node:crypto';

// RFC 6750 b64token after "Bearer" (case-insensitive), one or more spaces.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * The key in an `Authorization: Bearer <key>` value, if that is what it is.
 *
 * @example
 * bearerToken('Bearer abc123'); // 'abc123'
 * bearerToken('Basic dXNlcg=='); // undefined
 */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

/**
 * @example
 * hashApiKey('abc123'); // 'bKE9UspwyIPg8LsQHkJaiehiTeUdstI5JZOvaoQRgJA' (base64url SHA-256)
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
