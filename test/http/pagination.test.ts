import { describe, expect, it } from 'vitest';
import { nextLink } from '../../src/http/pagination.ts';

describe('nextLink', () => {
  it('keeps the path and filters and sets the cursor', () => {
    expect(nextLink('/api/products?limit=5&category=tools', 'abc.def')).toBe('/api/products?limit=5&category=tools&cursor=abc.def');
  });

  it('replaces an existing cursor rather than adding a second one', () => {
    const link = nextLink('/api/products?cursor=old&limit=5', 'new');
    expect(new URLSearchParams(link.split('?')[1]).getAll('cursor')).toEqual(['new']);
  });

  it('percent-encodes filter values', () => {
    expect(nextLink('/api/products?q=50%25%20off', 'c')).toBe('/api/products?q=50%25+off&cursor=c');
  });
});
