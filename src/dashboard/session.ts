/**
 * Signed, expiring dashboard sessions, so a browser can hold a login in a
 * cookie without ever holding the admin token itself.
 *
 * A session is `v1.<expiresAtMs>.<nonce>.<mac>`: the MAC is HMAC-SHA256 over
 * the first three parts with a key derived (HKDF) from ADMIN_TOKEN. Nothing is
 * stored server-side, so every process and instance that shares the token
 * accepts the same cookie, and rotating the token invalidates every session
 * at once. The flip side: logging out only clears the cookie in that browser;
 * a copied cookie stays valid until it expires (12 h by default).
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const SESSION_FORMAT = /^v1\.(\d{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export interface SessionKeeper {
  /** A new session value, valid for the TTL from now. */
  issue(): { value: string; expiresAtMs: number };
  /** The session's expiry when `value` is authentic and unexpired, else undefined. */
  verify(value: string | undefined): number | undefined;
  /** Whether `presented` is the admin token, in constant time. */
  isToken(presented: string | undefined): boolean;
  readonly ttlMs: number;
}

export interface SessionOptions {
  ttlMs?: number;
  /** Clock in ms since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * @example
 * const sessions = createSessionKeeper(config.admin.token);
 * const { value } = sessions.issue();   // goes in the cookie
 * sessions.verify(value);               // → expiry in ms, or undefined
 */
export function createSessionKeeper(adminToken: string, options: SessionOptions = {}): SessionKeeper {
  const ttlMs = options.ttlMs ?? SESSION_TTL_MS;
  const now = options.now ?? Date.now;
  // A derived key, not the token: a MAC never exposes material usable as a bearer token.
  const key = Buffer.from(hkdfSync('sha256', adminToken, 'holdfast-dashboard', 'session-mac-v1', 32));
  const tokenDigest = sha256(adminToken);

  function mac(payload: string): string {
    return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
  }

  return {
    issue: function issueSession() {
      const expiresAtMs = now() + ttlMs;
      const payload = `v1.${expiresAtMs}.${randomBytes(16).toString('base64url')}`;
      return { value: `${payload}.${mac(payload)}`, expiresAtMs };
    },
    verify: function verifySession(value) {
      const match = value === undefined ? null : SESSION_FORMAT.exec(value);
      if (match === null) return undefined;
      const [, expires, nonce, presented] = match as unknown as [string, string, string, string];
      const expected = Buffer.from(mac(`v1.${expires}.${nonce}`), 'base64url');
      if (!timingSafeEqual(Buffer.from(presented, 'base64url'), expected)) return undefined;
      const expiresAtMs = Number(expires);
      return expiresAtMs > now() ? expiresAtMs : undefined;
    },
    isToken: function isToken(presented) {
      // Digests on both sides: equal lengths for timingSafeEqual, and no length leak.
      return timingSafeEqual(sha256(presented ?? ''), tokenDigest) && presented !== undefined && presented !== '';
    },
    ttlMs,
  };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
