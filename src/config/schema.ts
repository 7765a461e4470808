/**
 * Every setting Holdfast reads, its default and what it allows.
 *
 * Each variable is validated on its own so that one run reports every bad
 * variable at once; cross-field rules (min ≤ max) name both sides.
 * Defaults for the pool come from the original report's Phase A1.
 */
import { z } from 'zod';

const MAX_INT = 2_147_483_647;

/** A whole number in [min, max], given as a string in the environment. */
function int(defaultValue: number, min: number, max = MAX_INT) {
  const allowed = max === MAX_INT ? `a whole number ≥ ${min}` : `a whole number from ${min} to ${max}`;
  return z
    .string()
    .trim()
    .default(String(defaultValue))
    .refine((s) => /^-?\d+$/.test(s) && Number(s) >= min && Number(s) <= max, { message: `must be ${allowed}` })
    .transform(Number);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T, defaultValue: T[number]) {
  return z
    .string()
    .trim()
    .toLowerCase()
    .default(defaultValue)
    .refine((s): s is T[number] => (values as readonly string[]).includes(s), {
      message: `must be one of ${values.join(', ')}`,
    })
    .transform((s) => s as T[number]);
}

function bool(defaultValue: boolean) {
  return oneOf(['true', 'false', '1', '0', 'yes', 'no'] as const, defaultValue ? 'true' : 'false').transform(
    (s) => s === 'true' || s === '1' || s === 'yes',
  );
}

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((s) => (s === '' ? undefined : s));

const postgresUrl = optionalString.refine(
  (s) => {
    if (s === undefined) return true;
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(s).protocol);
    } catch {
      return false;
    }
  },
  { message: 'must be a postgres:// or postgresql:// URL, or unset for embedded Postgres' },
);

/** The raw variables, by name, with their parsing rules. */
export const envSchema = z
  .object({
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    PORT: int(5001, 0, 65535),
    LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    SHUTDOWN_TIMEOUT_MS: int(10_000, 0),
    BODY_LIMIT_BYTES: int(1_048_576, 1),

    DATABASE_URL: postgresUrl,
    DATA_DIR: z.string().trim().min(1).default('./data'),
    EMBEDDED_PG_PORT: int(54329, 1, 65535),
    DB_STATEMENT_TIMEOUT_MS: int(10_000, 0),

    DB_POOL_MIN: int(5, 0),
    DB_POOL_MAX: int(40, 1),
    DB_POOL_TIMEOUT: int(30, 0),
    DB_POOL_RECYCLE: int(3600, 1),
    DB_POOL_IDLE_TIMEOUT: int(300, 1),
    DB_POOL_QUEUE_MAX: int(1000, 0),
    DB_POOL_GETMODE: oneOf(['wait', 'nowait'] as const, 'wait'),
    DB_POOL_LEAK_MS: int(30_000, 0),
    DB_POOL_VALIDATE_IDLE_MS: int(5_000, 0),

    SEED_DEMO: bool(true),
    CURSOR_SECRET: optionalString,
  })
  .superRefine((v, ctx) => {
    if (v.DB_POOL_MIN > v.DB_POOL_MAX) {
      ctx.addIssue({ code: 'custom', path: ['DB_POOL_MIN'], message: `must not exceed DB_POOL_MAX (${v.DB_POOL_MAX})` });
      ctx.addIssue({ code: 'custom', path: ['DB_POOL_MAX'], message: `must be at least DB_POOL_MIN (${v.DB_POOL_MIN})` });
    }
  });

export type RawSettings = z.output<typeof envSchema>;

/** Variables whose values must never be printed. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['CURSOR_SECRET']);
