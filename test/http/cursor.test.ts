import { describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../src/http/cursor.ts';
import { isTimeKey } from '../../src/http/keys.ts';
import { isAppError } from '../../src/errors/app-error.ts';

const codec = createCursorCodec('secret-one');
const key = ['2025-01-31T09:30:00.123456Z', 42];

function badCursor(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isAppError(err, 'BAD_CURSOR')).toBe(true);
    expect((err as { extras: { field?: string } }).extras.field).toBe('query.cursor');
    return (err as Error).message;
  }
  throw new Error('expected BAD_CURSOR');
}

describe('cursor codec', () => {
  it('round-trips a key for the same scope and filters, and is URL-safe', () => {
    const cursor = codec.encode('products', { category: 'tools' }, key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(codec.decode('products', { category: 'tools' }, cursor, isTimeKey)).toEqual(key);
  });

  it('treats an undefined filter as absent', () => {
    const cursor = codec.encode('products', { category: undefined, q: 'x' }, key);
    expect(codec.decode('products', { q: 'x' }, cursor, isTimeKey)).toEqual(key);
  });

  it('rejects a cursor issued for different filters or another list', () => {
    const cursor = codec.encode('products', { category: 'tools' }, key);
    badCursor(() => codec.decode('products', { category: 'toys' }, cursor, isTimeKey));
    badCursor(() => codec.decode('products', {}, cursor, isTimeKey));
    badCursor(() => codec.decode('customer-orders', { category: 'tools' }, cursor, isTimeKey));
  });

  it('rejects an edited payload, an edited or extended signature, and another secret', () => {
    const cursor = codec.encode('products', {}, key);
    const [payload, signature] = cursor.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify(['2025-01-31T09:30:00.123456Z', 1])).toString('base64url');
    badCursor(() => codec.decode('products', {}, `${forged}.${signature}`, isTimeKey));
    const flipped = signature.slice(0, -1) + (signature.endsWith('A') ? 'B' : 'A');
    badCursor(() => codec.decode('products', {}, `${payload}.${flipped}`, isTimeKey));
    badCursor(() => codec.decode('products', {}, `${cursor}!!`, isTimeKey));
    badCursor(() => createCursorCodec('secret-two').decode('products', {}, cursor, isTimeKey));
  });

  it('rejects garbage without throwing anything but BAD_CURSOR', () => {
    for (const garbage of ['x', '.', 'abc.', '.abc', 'not a cursor', 'a.b.c', '%%%.%%%', '🙂.🙂']) {
      badCursor(() => codec.decode('products', {}, garbage, isTimeKey));
    }
  });

  it('rejects a correctly signed cursor whose key has the wrong shape', () => {
    const cursor = codec.encode('products', {}, { createdAt: 'yesterday', id: -1 });
    expect(badCursor(() => codec.decode('products', {}, cursor, isTimeKey))).toMatch(/first page/);
  });
});
