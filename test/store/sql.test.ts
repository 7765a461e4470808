import { describe, expect, it } from 'vitest';
import { containsPattern, isoTimestamp } from '../../src/store/sql.ts';

describe('containsPattern', () => {
  it('wraps in % and escapes the LIKE metacharacters and the escape itself', () => {
    expect(containsPattern('plain')).toBe('%plain%');
    expect(containsPattern('50%_off')).toBe('%50\\%\\_off%');
    expect(containsPattern('a\\b')).toBe('%a\\\\b%');
  });
});

describe('isoTimestamp', () => {
  it('formats in UTC with six fractional digits', () => {
    expect(isoTimestamp('created_at')).toBe(`to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`);
  });
});
