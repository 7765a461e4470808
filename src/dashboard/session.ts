/**
 * Signed, expiring dashboard sessions, so a browser can hold a login in a
 * cookie without ever holding the admin token itself.
 *
 * A session is `v1.<expiresAtMs>.<nonce>.<mac>`: the MAC is HMAC-SHA256 over
 * the first three parts with a key derived (HKDF) from ADMIN_TOKEN. Sessions
 * themselves are not stored, so every process and instance that shares the
 * token accepts the same cookie, and rotating the token invalidates every
 * session at once. Logging out revokes the session: its nonce is kept until
 * the session would have expired, and a copied cookie stops working. The
 * revocation list lives in this process (bounded; the oldest revocations go
 * first past 10 000 at once): with several instances or WEB_CONCURRENCY > 1,
 * rotate ADMIN_TOKEN to end a leaked session everywhere (docs/SECURITY.md).
 */
import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const SESSION_FORMAT = /^v1\.(\d{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export interface SessionKeeper {
  /** A new session value, valid for the TTL from now. */
  issue(): { value: string; expiresAtMs: number };
  /** The session's expiry when `value` is authentic and unexpired, else undefined. */
  verify(value: string | undefined): number | undefined;
  /** Ends the session `value` (when authentic) before it expires: verify refuses it from now on. */
  revoke(value: string | undefined): void;
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
  const revoked = new LRUCache<string, true>({ max: 10_000, ttlAutopurge: false, perf: { now } });

  function mac(payload: string): string {
    return createHmac('sha256', key).update(payload, 'utf8').digest('base64url');
  }

  /** The session's nonce and expiry when `value` is authentic and unexpired. */
  function authentic(value: string | undefined): { nonce: string; expiresAtMs: number } | undefined {
    const match = value === undefined ? null : SESSION_FORMAT.exec(value);
    if (match === null) return undefined;
    const [, expires, nonce, presented] = match as unknown as [string, string, string, string];
    const expected = Buffer.from(mac(`v1.${expires}.${nonce}`), 'base64url');
    if (!timingSafeEqual(Buffer.from(presented, 'base64url'), expected)) return undefined;
    const expiresAtMs = Number(expires);
    return expiresAtMs > now() ? { nonce, expiresAtMs } : undefined;
  }

  return {
    issue: function issueSession() {
      const expiresAtMs = now() + ttlMs;
      const payload = `v1.${expiresAtMs}.${randomBytes(16).toString('base64url')}`;
      return { value: `${payload}.${mac(payload)}`, expiresAtMs };
    },
    verify: function verifySession(value) {
      const session = authentic(value);
      return session === undefined || revoked.has(session.nonce) ? undefined : session.expiresAtMs;
    },
    revoke: function revokeSession(value) {
      const session = authentic(value);
      // Only authentic sessions: nobody can fill the list with made-up values.
      if (session !== undefined) revoked.set(session.nonce, true, { ttl: session.expiresAtMs - now() });
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
