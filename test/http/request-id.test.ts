import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { requestIdOf } from '../../src/http/request-id.ts';

function withHeader(value: string | string[] | undefined): IncomingMessage {
  return { headers: value === undefined ? {} : { 'x-request-id': value } } as unknown as IncomingMessage;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestIdOf', () => {
  it('keeps a sane incoming id', () => {
    expect(requestIdOf(withHeader('abc-123_X.y:z'))).toBe('abc-123_X.y:z');
  });

  it('generates a UUID when the header is missing, repeated, too long or unsafe', () => {
    for (const value of [undefined, ['a', 'b'], 'x'.repeat(129), 'a b', 'a\nb', '<script>', '']) {
      expect(requestIdOf(withHeader(value))).toMatch(UUID);
    }
  });

  it('generates a different id per request', () => {
    expect(requestIdOf(withHeader(undefined))).not.toBe(requestIdOf(withHeader(undefined)));
  });
});
