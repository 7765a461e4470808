import { describe, expect, it } from 'vitest';
import { matches, roleOf } from '../../../src/db/hosts/target.ts';

const primary = { inRecovery: false, readOnly: false };
const standby = { inRecovery: true, readOnly: true };
const readOnlyPrimary = { inRecovery: false, readOnly: true }; // default_transaction_read_only = on

describe('target_session_attrs (libpq semantics)', () => {
  it('matches each target as libpq does', () => {
    expect([primary, standby, readOnlyPrimary].map((s) => matches('any', s))).toEqual([true, true, true]);
    expect([primary, standby, readOnlyPrimary].map((s) => matches('read-write', s))).toEqual([true, false, false]);
    expect([primary, standby, readOnlyPrimary].map((s) => matches('read-only', s))).toEqual([false, true, true]);
    expect([primary, standby, readOnlyPrimary].map((s) => matches('primary', s))).toEqual([true, false, true]);
    expect([primary, standby, readOnlyPrimary].map((s) => matches('standby', s))).toEqual([false, true, false]);
    expect([primary, standby, readOnlyPrimary].map((s) => matches('prefer-standby', s))).toEqual([false, true, false]);
  });

  it('names the role by recovery', () => {
    expect(roleOf(primary)).toBe('primary');
    expect(roleOf(standby)).toBe('standby');
  });
});
