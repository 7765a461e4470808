import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../../src/config/index.ts';
import { createApiKeyVerifier } from '../../../src/http/auth/api-keys.ts';

function key(name: string, secret: string, scope: 'read' | 'write'): ApiKey {
  return { name, sha256: createHash('sha256').update(secret).digest('hex'), scope };
}

describe('createApiKeyVerifier', () => {
  const verify = createApiKeyVerifier([
    key('writer', 'w-0123456789abcdef', 'write'),
    key('reader', 'r-0123456789abcdef', 'read'),
    key('unicode', 'ü-0123456789abcdef', 'write'),
  ]);

  it('names the key that matches, with its scope', () => {
    expect(verify('w-0123456789abcdef')).toEqual({ name: 'writer', scope: 'write' });
    expect(verify('r-0123456789abcdef')).toEqual({ name: 'reader', scope: 'read' });
    expect(verify('ü-0123456789abcdef')).toEqual({ name: 'unicode', scope: 'write' });
  });

  it('matches nothing else: prefixes, extensions, case changes, names, hashes', () => {
    for (const wrong of [
      '',
      'w-0123456789abcde',
      'w-0123456789abcdef ',
      'W-0123456789ABCDEF',
      'writer',
      createHash('sha256').update('w-0123456789abcdef').digest('hex'),
    ]) {
      expect(verify(wrong), wrong).toBeUndefined();
    }
  });

  it('matches nothing when no keys are configured', () => {
    expect(createApiKeyVerifier([])('anything-at-all-0123')).toBeUndefined();
  });

  it('gives the first configured key when two share a secret', () => {
    const twice = createApiKeyVerifier([key('a', 'same-0123456789abcdef', 'read'), key('b', 'same-0123456789abcdef', 'write')]);
    expect(twice('same-0123456789abcdef')).toEqual({ name: 'a', scope: 'read' });
  });
});
