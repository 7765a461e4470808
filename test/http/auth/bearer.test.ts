import { describe, expect, it } from 'vitest';
import { bearerCheck, bearerToken, isBearerCredential } from '../../../src/http/auth/bearer.ts';

describe('bearerCheck', () => {
  it('accepts exactly `Bearer <token>`', () => {
    const check = bearerCheck('s3cret-token');
    expect(check('Bearer s3cret-token')).toBe(true);
    expect(check('bearer s3cret-token')).toBe(true);
    expect(check('Bearer s3cret-toke')).toBe(false);
    expect(check('Bearer s3cret-token2')).toBe(false);
    expect(check('Basic s3cret-token')).toBe(false);
    expect(check('s3cret-token')).toBe(false);
    expect(check(undefined)).toBe(false);
    expect(bearerCheck(undefined)('Bearer anything')).toBe(false);
  });
});

describe('bearerToken', () => {
  it('takes any visible credential after the Bearer scheme', () => {
    expect(bearerToken('Bearer abc-._~+/=')).toBe('abc-._~+/=');
    expect(bearerToken('bearer   k!#$%&*')).toBe('k!#$%&*');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('isBearerCredential', () => {
  it('is true exactly for what bearerToken can return: visible ASCII, no space', () => {
    for (const ok of ['abc-._~+/=', 'k!#$%&*', '"quoted"', ',:;<>@[]\\']) {
      expect(isBearerCredential(ok), ok).toBe(true);
      expect(bearerToken(`Bearer ${ok}`), ok).toBe(ok);
    }
    for (const bad of ['', 'a b', 'tab\there', 'clé', 'non\u00a0breaking']) {
      expect(isBearerCredential(bad), bad).toBe(false);
      expect(bearerToken(`Bearer ${bad}`), bad).toBeUndefined();
    }
  });
});
