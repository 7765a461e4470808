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

/** A number in (0, 1], e.g. a fraction of the heap limit. */
function fraction(defaultValue: number) {
  return z
    .string()
    .trim()
    .default(String(defaultValue))
    .refine((s) => /^(0(\.\d+)?|1(\.0+)?)$/.test(s) && Number(s) > 0, { message: 'must be a number greater than 0 and at most 1' })
    .transform(Number);
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
    DB_ADAPTIVE_LIMIT: bool(true),
    DB_ADAPTIVE_LIMIT_MIN: int(2, 1),
    DB_BATCH_READS: bool(true),
    DB_BATCH_MAX: int(64, 2, 1000),

    SEED_DEMO: bool(true),
    IDEMPOTENCY_TTL_S: int(86_400, 60, 30 * 86_400),
    CURSOR_SECRET: optionalString,

    TRUST_PROXY: z
      .string()
      .trim()
      .default('false')
      .refine((s) => s !== '', { message: 'must be true, false, a hop count, or a comma-separated list of proxy addresses/CIDRs' }),
    REDIS_URL: optionalString.refine((s) => s === undefined || /^rediss?:\/\//.test(s), {
      message: 'must be a redis:// or rediss:// URL, or unset for in-memory stores',
    }),
    REDIS_COMMAND_TIMEOUT_MS: int(100, 1, 60_000),

    RATE_LIMIT_ENABLED: bool(true),
    RATE_LIMIT_MAX: int(100, 1),
    RATE_LIMIT_WINDOW_S: int(60, 1, 86_400),
    RATE_LIMIT_WRITE_MAX: int(20, 1),
    RATE_LIMIT_ALLOW: z.string().trim().default(''),
    RATE_LIMIT_DB_MS_PER_MINUTE: int(0, 0, 3_600_000),

    MEMORY_SAMPLE_MS: int(1000, 10),
    HEAP_GROWING_PERCENT: int(50, 0, 1000),
    MEMORY_WARN_MB: int(512, 1),
    MEMORY_CRITICAL_MB: int(1024, 1),
    HEAP_WARN_FRACTION: fraction(0.8),
    HEAP_CRITICAL_FRACTION: fraction(0.92),
    EVENT_LOOP_DELAY_WARN_MS: int(200, 1),
    EVENT_LOOP_DELAY_MAX_MS: int(1000, 1),
    HEAP_SNAPSHOT_DIR: optionalString,
    HEAP_SNAPSHOT_MIN_INTERVAL_S: int(3600, 0),

    SLOW_QUERY_MS: int(100, 0),
    N_PLUS_ONE_THRESHOLD: int(5, 1),
    PROFILER_MAX_FINGERPRINTS: int(500, 10),
    EXPLAIN_SAMPLE_INTERVAL_S: int(60, 0),

    CACHE_ENABLED: bool(true),
    CACHE_MAX_BYTES: int(64 * 1024 * 1024, 1024),
    CACHE_TTL_PRODUCT_S: int(30, 1),
    CACHE_TTL_LIST_S: int(10, 1),
    CACHE_TTL_REPORT_S: int(60, 1),

    API_KEYS: z
      .string()
      .trim()
      .default('')
      .refine((s) => s === '' || s.split(',').every((e) => /^[A-Za-z0-9_.-]{1,64}:[\x21-\x2b\x2d-\x39\x3b-\x7e]{16,256}(:(read|write))?$/.test(e.trim())), {
        message: 'must be comma-separated name:key[:read|write] entries; names [A-Za-z0-9_.-], keys 16–256 visible characters without commas or colons',
      }),
    CORS_ORIGINS: z.string().trim().default(''),
    WEB_CONCURRENCY: int(1, 1, 64),
    DB_PREPARED_STATEMENTS: bool(true),
    DB_CONNECTION_HEADROOM: int(10, 0),

    METRICS_TOKEN: optionalString,
    ADMIN_TOKEN: optionalString,
    DASHBOARD_MAX_STREAMS: int(20, 1),
    DASHBOARD_INTERVAL_MS: int(1000, 100),
  })
  .superRefine((v, ctx) => {
    if (v.MEMORY_WARN_MB > v.MEMORY_CRITICAL_MB) {
      ctx.addIssue({ code: 'custom', path: ['MEMORY_WARN_MB'], message: `must not exceed MEMORY_CRITICAL_MB (${v.MEMORY_CRITICAL_MB})` });
    }
    if (v.HEAP_WARN_FRACTION > v.HEAP_CRITICAL_FRACTION) {
      ctx.addIssue({ code: 'custom', path: ['HEAP_WARN_FRACTION'], message: `must not exceed HEAP_CRITICAL_FRACTION (${v.HEAP_CRITICAL_FRACTION})` });
    }
    if (v.EVENT_LOOP_DELAY_WARN_MS > v.EVENT_LOOP_DELAY_MAX_MS) {
      ctx.addIssue({ code: 'custom', path: ['EVENT_LOOP_DELAY_WARN_MS'], message: `must not exceed EVENT_LOOP_DELAY_MAX_MS (${v.EVENT_LOOP_DELAY_MAX_MS})` });
    }
    if (v.DB_POOL_MIN > v.DB_POOL_MAX) {
      ctx.addIssue({ code: 'custom', path: ['DB_POOL_MIN'], message: `must not exceed DB_POOL_MAX (${v.DB_POOL_MAX})` });
      ctx.addIssue({ code: 'custom', path: ['DB_POOL_MAX'], message: `must be at least DB_POOL_MIN (${v.DB_POOL_MIN})` });
    }
  });

export type RawSettings = z.output<typeof envSchema>;

/** Variables whose values must never be printed. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['CURSOR_SECRET', 'METRICS_TOKEN', 'ADMIN_TOKEN', 'API_KEYS']);

/** Variables holding URLs whose password must be masked when shown. */
export const URL_VARIABLES: ReadonlySet<string> = new Set(['DATABASE_URL', 'REDIS_URL']);
