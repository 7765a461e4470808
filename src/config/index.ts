/**
 * One typed, frozen configuration for the whole process.
 *
 * @example
 * const config = loadConfig(readEnvironment()); // throws ConfigError listing every bad variable
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { envSchema, SECRET_VARIABLES, URL_VARIABLES, type RawSettings } from './schema.ts';
import type { EnvSource } from './environment.ts';
import { redactUrl } from './redact.ts';

export { readEnvironment } from './environment.ts';

export interface PoolSettings {
  min: number;
  max: number;
  /** How long one acquire may wait for a connection (DB_POOL_TIMEOUT, in ms). */
  acquireTimeoutMs: number;
  /** How long a connection may live before it is replaced on return (DB_POOL_RECYCLE, in ms). */
  recycleMs: number;
  /** How long a connection above `min` may sit idle before it is closed (in ms). */
  idleTimeoutMs: number;
  queueMax: number;
  getMode: 'wait' | 'nowait';
  /** Warn when a connection is held longer than this; 0 turns it off. */
  leakMs: number;
  /** Validate a connection that sat idle longer than this before handing it out. */
  validateAfterIdleMs: number;
  /** Cap leased connections adaptively (Vegas) between `adaptiveMin` and `max`. */
  adaptive: boolean;
  adaptiveMin: number;
}

export interface RateLimitSettings {
  enabled: boolean;
  /** Requests admitted per window for reads. */
  max: number;
  windowSeconds: number;
  /** Requests admitted per window for writes (POST, PUT, PATCH, DELETE). */
  writeMax: number;
  /** Client IPs, CIDRs or API keys that are never limited. */
  allow: readonly string[];
  /** Milliseconds of database time a client may spend per minute (policy "db"); 0 is off. */
  dbMsPerMinute: number;
}

export interface PressureSettings {
  sampleMs: number;
  memoryWarnMb: number;
  memoryCriticalMb: number;
  heapWarnFraction: number;
  heapCriticalFraction: number;
  eventLoopDelayWarnMs: number;
  eventLoopDelayMaxMs: number;
  /** Where to write one heap snapshot on first reaching critical; unset is off. */
  heapSnapshotDir: string | undefined;
  heapSnapshotMinIntervalS: number;
}

export interface ProfilerSettings {
  /** Statements slower than this are logged and, sampled, explained. */
  slowQueryMs: number;
  /** More runs of one fingerprint in one request than this is an N+1. */
  nPlusOneThreshold: number;
  /** Statistics are kept for at most this many fingerprints. */
  maxFingerprints: number;
  /** At most one EXPLAIN per fingerprint per this many seconds; 0 turns plans off. */
  explainIntervalS: number;
}

export interface CacheSettings {
  enabled: boolean;
  /** Memory store bound, in bytes of cached values. */
  maxBytes: number;
  ttl: { productS: number; listS: number; reportS: number };
}

/** One API key, as configured: only its SHA-256 is kept in memory. */
export interface ApiKey {
  name: string;
  /** SHA-256 of the key, hex; the key itself is dropped after loading. */
  sha256: string;
  scope: 'read' | 'write';
}

export interface Config {
  server: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    shutdownTimeoutMs: number;
    /** Fastify's trustProxy: whether (and which) X-Forwarded-For hops count. */
    trustProxy: boolean | number | string;
  };
  redis: { url: string | undefined; commandTimeoutMs: number };
  rateLimit: RateLimitSettings;
  pressure: PressureSettings;
  /** V8's old-generation growth between full GCs, in percent; 0 leaves V8's default (src/runtime/heap-growth.ts). */
  heapGrowingPercent: number;
  profiler: ProfilerSettings;
  cache: CacheSettings;
  metrics: { token: string | undefined };
  admin: { token: string | undefined };
  dashboard: {
    /** Dashboard event streams open at once in this process; the next gets 503 OVERLOADED. */
    maxStreams: number;
    /** How often the dashboard samples and sends a frame (ms). */
    intervalMs: number;
  };
  /** Keys for `Authorization: Bearer`; empty means writes are not authenticated. */
  apiKeys: readonly ApiKey[];
  /** Origins allowed by CORS; empty turns CORS off. */
  corsOrigins: readonly string[];
  /** Worker processes (node:cluster) sharing the port; 1 runs in-process. */
  webConcurrency: number;
  log: { level: RawSettings['LOG_LEVEL'] };
  database: {
    /** Unset means: start embedded Postgres under `dataDir`. */
    url: string | undefined;
    dataDir: string;
    embeddedPort: number;
    statementTimeoutMs: number;
    /** Named prepared statements; off behind a transaction pooler such as PgBouncer 1.18. */
    preparedStatements: boolean;
    /** Connections of the server's max_connections kept free of our pools. */
    connectionHeadroom: number;
    /** Concurrent product reads by id share one statement, at most `max` ids (src/store/batch/loader.ts). */
    batchReads: { enabled: boolean; max: number };
  };
  pool: PoolSettings;
  seedDemo: boolean;
  /** Idempotency-Key lifetime in seconds; older keys count as new and are purged. */
  idempotencyTtlSeconds: number;
  /** Signs pagination cursors. Random per process when unset. */
  cursorSecret: string;
}

export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  message: string;
}

/** Raised when any setting is invalid; lists every bad variable. */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}=${JSON.stringify(p.value ?? '')}: ${p.message}`);
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function shownValue(variable: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (SECRET_VARIABLES.has(variable)) return '<redacted>';
  if (URL_VARIABLES.has(variable)) return redactUrl(value);
  return value;
}

/** Validates `env` and builds the frozen config, or throws {@link ConfigError}. */
export function loadConfig(env: EnvSource): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? '(config)');
      return { variable, value: shownValue(variable, env[variable]), message: issue.message };
    });
    throw new ConfigError(problems);
  }
  const s = parsed.data;
  return deepFreeze({
    server: {
      host: s.HOST,
      port: s.PORT,
      bodyLimitBytes: s.BODY_LIMIT_BYTES,
      shutdownTimeoutMs: s.SHUTDOWN_TIMEOUT_MS,
      trustProxy: parseTrustProxy(s.TRUST_PROXY),
    },
    redis: { url: s.REDIS_URL, commandTimeoutMs: s.REDIS_COMMAND_TIMEOUT_MS },
    rateLimit: {
      enabled: s.RATE_LIMIT_ENABLED,
      max: s.RATE_LIMIT_MAX,
      windowSeconds: s.RATE_LIMIT_WINDOW_S,
      writeMax: s.RATE_LIMIT_WRITE_MAX,
      allow: s.RATE_LIMIT_ALLOW.split(',').map((x) => x.trim()).filter((x) => x !== ''),
      dbMsPerMinute: s.RATE_LIMIT_DB_MS_PER_MINUTE,
    },
    heapGrowingPercent: s.HEAP_GROWING_PERCENT,
    pressure: {
      sampleMs: s.MEMORY_SAMPLE_MS,
      memoryWarnMb: s.MEMORY_WARN_MB,
      memoryCriticalMb: s.MEMORY_CRITICAL_MB,
      heapWarnFraction: s.HEAP_WARN_FRACTION,
      heapCriticalFraction: s.HEAP_CRITICAL_FRACTION,
      eventLoopDelayWarnMs: s.EVENT_LOOP_DELAY_WARN_MS,
      eventLoopDelayMaxMs: s.EVENT_LOOP_DELAY_MAX_MS,
      heapSnapshotDir: s.HEAP_SNAPSHOT_DIR,
      heapSnapshotMinIntervalS: s.HEAP_SNAPSHOT_MIN_INTERVAL_S,
    },
    profiler: {
      slowQueryMs: s.SLOW_QUERY_MS,
      nPlusOneThreshold: s.N_PLUS_ONE_THRESHOLD,
      maxFingerprints: s.PROFILER_MAX_FINGERPRINTS,
      explainIntervalS: s.EXPLAIN_SAMPLE_INTERVAL_S,
    },
    cache: {
      enabled: s.CACHE_ENABLED,
      maxBytes: s.CACHE_MAX_BYTES,
      ttl: { productS: s.CACHE_TTL_PRODUCT_S, listS: s.CACHE_TTL_LIST_S, reportS: s.CACHE_TTL_REPORT_S },
    },
    metrics: { token: s.METRICS_TOKEN },
    apiKeys: parseApiKeys(s.API_KEYS),
    corsOrigins: s.CORS_ORIGINS.split(',').map((o) => o.trim()).filter((o) => o !== ''),
    webConcurrency: s.WEB_CONCURRENCY,
    admin: { token: s.ADMIN_TOKEN },
    dashboard: { maxStreams: s.DASHBOARD_MAX_STREAMS, intervalMs: s.DASHBOARD_INTERVAL_MS },
    log: { level: s.LOG_LEVEL },
    database: {
      url: s.DATABASE_URL,
      dataDir: s.DATA_DIR,
      embeddedPort: s.EMBEDDED_PG_PORT,
      statementTimeoutMs: s.DB_STATEMENT_TIMEOUT_MS,
      preparedStatements: s.DB_PREPARED_STATEMENTS,
      connectionHeadroom: s.DB_CONNECTION_HEADROOM,
      batchReads: { enabled: s.DB_BATCH_READS, max: s.DB_BATCH_MAX },
    },
    pool: {
      min: s.DB_POOL_MIN,
      max: s.DB_POOL_MAX,
      acquireTimeoutMs: s.DB_POOL_TIMEOUT * 1000,
      recycleMs: s.DB_POOL_RECYCLE * 1000,
      idleTimeoutMs: s.DB_POOL_IDLE_TIMEOUT * 1000,
      queueMax: s.DB_POOL_QUEUE_MAX,
      getMode: s.DB_POOL_GETMODE,
      leakMs: s.DB_POOL_LEAK_MS,
      validateAfterIdleMs: s.DB_POOL_VALIDATE_IDLE_MS,
      adaptive: s.DB_ADAPTIVE_LIMIT,
      adaptiveMin: Math.min(s.DB_ADAPTIVE_LIMIT_MIN, s.DB_POOL_MAX),
    },
    seedDemo: s.SEED_DEMO,
    idempotencyTtlSeconds: s.IDEMPOTENCY_TTL_S,
    cursorSecret: s.CURSOR_SECRET ?? randomBytes(32).toString('base64url'),
  });
}

/** The config as it may be logged or printed: secrets removed. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    ...config,
    database: { ...config.database, url: config.database.url === undefined ? '(embedded)' : redactUrl(config.database.url) },
    // API keys may sit in the allow-list: show addresses only, and how many keys.
    rateLimit: {
      ...config.rateLimit,
      allow: config.rateLimit.allow.filter((entry) => isAddress(entry)).concat(
        config.rateLimit.allow.some((entry) => !isAddress(entry)) ? [`<${config.rateLimit.allow.filter((e) => !isAddress(e)).length} API keys>`] : [],
      ),
    },
    redis: { ...config.redis, url: config.redis.url === undefined ? '(in memory)' : redactUrl(config.redis.url) },
    metrics: { token: config.metrics.token === undefined ? undefined : '<redacted>' },
    admin: { token: config.admin.token === undefined ? undefined : '<redacted>' },
    apiKeys: config.apiKeys.map((k) => ({ name: k.name, scope: k.scope })),
    cursorSecret: '<redacted>',
  };
}

function parseApiKeys(value: string): ApiKey[] {
  if (value === '') return [];
  return value.split(',').map((entry) => {
    const [name, key, scope] = entry.trim().split(':') as [string, string, string | undefined];
    return { name, sha256: createHash('sha256').update(key).digest('hex'), scope: scope === 'read' ? 'read' : 'write' };
  });
}

function isAddress(entry: string): boolean {
  return isIP(entry.split('/')[0] ?? '') !== 0;
}

function parseTrustProxy(value: string): boolean | number | string {
  const v = value.toLowerCase();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^\d+$/.test(v)) return Number(v);
  return value; // addresses/CIDRs, comma-separated, as Fastify accepts them
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (v !== null && typeof v === 'object') deepFreeze(v);
  return Object.freeze(value);
}
