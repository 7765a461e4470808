/**
 * libpq's target_session_attrs: which host of several a session wants.
 * The meanings follow libpq's documentation (PostgreSQL 14+): read-write and
 * read-only look at `transaction_read_only`, primary and standby at
 * `pg_is_in_recovery()`, and prefer-standby takes a standby when one answers,
 * else any host.
 *
 * @example
 * matches('read-write', { inRecovery: false, readOnly: false }); // true
 */

export const TARGET_SESSION_ATTRS = ['any', 'read-write', 'read-only', 'primary', 'standby', 'prefer-standby'] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** What a probe learnt of one host. */
export interface HostState {
  inRecovery: boolean;
  readOnly: boolean;
}

export function isTargetSessionAttrs(value: string): value is TargetSessionAttrs {
  return (TARGET_SESSION_ATTRS as readonly string[]).includes(value);
}

/** True when a host in `state` satisfies `target` on its own (prefer-standby's fallback is the selector's job). */
export function matches(target: TargetSessionAttrs, state: HostState): boolean {
  switch (target) {
    case 'any':
      return true;
    case 'read-write':
      return !state.readOnly;
    case 'read-only':
      return state.readOnly;
    case 'primary':
      return !state.inRecovery;
    case 'standby':
    case 'prefer-standby':
      return state.inRecovery;
  }
}

/** The role to show on /api/health and as the metrics `role` label. */
export function roleOf(state: HostState): 'primary' | 'standby' {
  return state.inRecovery ? 'standby' : 'primary';
}
