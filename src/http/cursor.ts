/**
 * Opaque, signed pagination cursors.
 *
 * A cursor is `base64url(JSON key) + "." + base64url(HMAC-SHA256)`. The MAC
 * covers the list it was issued for (`scope`) and that list's filters as well
 * as the key, so a cursor cannot be edited, replayed on another list, or
 * carried over to different filters: each of those fails verification and is
 * answered 400 BAD_CURSOR. The key itself is readable but not meaningful to
 * clients; the signature, not secrecy, is what makes it safe to trust.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors/app-error.ts';

/** Filter values a list was called with; `undefined` and absent are the same. */
export type CursorFilters = Readonly<Record<string, string | number | boolean | undefined>>;

export interface CursorCodec {
  encode(scope: string, filters: CursorFilters, key: unknown): string;
  /**
   * Verifies and decodes `cursor`; `isKey` checks the decoded shape.
   * Throws AppError BAD_CURSOR (with `field: 'query.cursor'`) on any failure.
   */
  decode<K>(scope: string, filters: CursorFilters, cursor: string, isKey: (key: unknown) => key is K): K;
}

const MAC_LENGTH = 32;

function canonical(filters: CursorFilters): string {
  return JSON.stringify(
    Object.keys(filters)
      .filter((name) => filters[name] !== undefined)
      .sort()
      .map((name) => [name, filters[name]]),
  );
}

function badCursor(detail: string): AppError {
  return new AppError('BAD_CURSOR', detail, { field: 'query.cursor' });
}

/**
 * @example
 * const cursors = createCursorCodec(config.cursorSecret);
 * const next = cursors.encode('products', { category: 'tools' }, ['2024-05-01T10:00:00.123456Z', 42]);
 * const key = cursors.decode('products', { category: 'tools' }, next, isProductKey);
 */
export function createCursorCodec(secret: string): CursorCodec {
  function mac(scope: string, filters: CursorFilters, payload: string): Buffer {
    return createHmac('sha256', secret)
      .update(`${scope}\n${canonical(filters)}\n${payload}`)
      .digest();
  }

  function encode(scope: string, filters: CursorFilters, key: unknown): string {
    const payload = Buffer.from(JSON.stringify(key)).toString('base64url');
    return `${payload}.${mac(scope, filters, payload).toString('base64url')}`;
  }

  function decode<K>(scope: string, filters: CursorFilters, cursor: string, isKey: (key: unknown) => key is K): K {
    const dot = cursor.indexOf('.');
    if (dot <= 0) throw badCursor('the cursor is malformed');
    const payload = cursor.slice(0, dot);
    const signature = cursor.slice(dot + 1);
    const given = Buffer.from(signature, 'base64url');
    // Node's base64url decoder skips characters it does not know; re-encoding
    // rejects a signature with anything added to it.
    const canonicalSignature = given.length === MAC_LENGTH && given.toString('base64url') === signature;
    if (!canonicalSignature || !timingSafeEqual(given, mac(scope, filters, payload))) {
      throw badCursor('the cursor was altered, or was issued for a different list or different filters');
    }
    let key: unknown;
    try {
      key = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw badCursor('the cursor is malformed');
    }
    // Only reachable with a cursor signed by an older key format: still the client's to drop.
    if (!isKey(key)) throw badCursor('the cursor is no longer valid; start from the first page');
    return key;
  }

  return { encode, decode };
}
