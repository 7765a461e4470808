/**
 * API keys as rate-limit identities, without ever holding the key itself.
 *
 * Only a SHA-256 of the presented key is kept, in memory, in Redis keys and
 * in the allow-list, so neither a heap dump, a Redis `KEYS` nor a log line
 * can reveal a key. An unsalted hash is enough: API keys are long random
 * secrets, not guessable passwords. The key is read from the header by the
 * one bearer parser (src/http/auth/bearer.ts), the same that verifies
 * API_KEYS, so a key that authenticates can also be allow-listed.
 */
import { createHash } from 'node:crypto';

/**
 * @example
 * hashApiKey('abc123'); // 'bKE9UspwyIPg8LsQHkJaiehiTeUdstI5JZOvaoQRgJA' (base64url SHA-256)
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}
