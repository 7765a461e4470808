/**
 * Every Postgres advisory lock key Holdfast takes, in one place, so two
 * features can never pick the same key by accident. Keys are (int4, int4)
 * pairs: the first is 'Hold' in ASCII, the second names the purpose.
 */

const HOLDFAST = 0x486f6c64;

/**
 * Key pairs for `pg_advisory_lock($1, $2)` and friends.
 *
 * @example
 * await client.query('SELECT pg_advisory_xact_lock($1, $2)', [...ADVISORY_LOCKS.demoSeed]);
 */
export const ADVISORY_LOCKS = {
  /** Held while migrations run, so concurrent starts apply each one once. */
  migrations: [HOLDFAST, 1],
  /** Held while checking for and loading demo data, so it is loaded once. */
  demoSeed: [HOLDFAST, 2],
} as const satisfies Record<string, readonly [number, number]>;
